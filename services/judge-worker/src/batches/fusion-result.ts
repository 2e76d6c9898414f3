import { failedLine, responseLine, type ResultKind, type ResultLine } from "@fusion/intake";
import { keys, parseEntry, type RedisClient } from "@fusion/runtime";

/** How long a line waits for its fusion's terminal entry once the fusion's job has ended. */
const TERMINAL_WAIT_MS = 10_000;

/**
 * The answer of a line's fusion, from the terminal entry of its event stream: the `final` completion
 * (200), or its error (its status, our error shape). A job that ended writes that entry itself or has
 * it written right after (a turn that failed for good), so a missing one is waited for a moment.
 */
export async function fusionResult(
  redis: RedisClient,
  fusionId: string,
  line: { requestId: string; customId: string },
): Promise<{ kind: ResultKind; line: ResultLine }> {
  const deadline = Date.now() + TERMINAL_WAIT_MS;
  for (;;) {
    const [entry] = await redis.xrevrange(keys.events(fusionId), "+", "-", "COUNT", 1);
    const stored = entry && parseEntry(entry[0], entry[1]);
    if (stored?.type === "final") {
      const { completion } = JSON.parse(stored.raw) as { completion: unknown };
      return responseLine(line.requestId, line.customId, 200, completion);
    }
    if (stored?.type === "error") {
      const e = JSON.parse(stored.raw) as { status?: number; message?: string };
      return failedLine(line.requestId, line.customId, e.status ?? 500, e.message ?? "the fusion failed");
    }
    if (Date.now() > deadline)
      return failedLine(line.requestId, line.customId, 500, "the fusion ended without an answer");
    await new Promise((r) => setTimeout(r, 200));
  }
}
