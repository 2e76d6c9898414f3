/** The completion window batches run in: OpenAI's only one. */
export const COMPLETION_WINDOW = "24h";
const WINDOW_SECONDS = 24 * 3600;
/** The longest test window (`BATCH_TEST_COMPLETION_WINDOWS`). */
const MAX_TEST_WINDOW_SECONDS = 3600;

/**
 * The seconds of the `completion_window` a batch asks for: `"24h"`; with `testWindows`
 * (BATCH_TEST_COMPLETION_WINDOWS, for tests only) also `"<n>s"`, 1 to 3600 seconds. Undefined for
 * any other value.
 */
export function completionWindowSeconds(window: string, testWindows: boolean): number | undefined {
  if (window === COMPLETION_WINDOW) return WINDOW_SECONDS;
  const match = testWindows ? /^([1-9][0-9]{0,3})s$/.exec(window) : null;
  const seconds = match ? Number(match[1]) : Number.NaN;
  return seconds <= MAX_TEST_WINDOW_SECONDS ? seconds : undefined;
}
