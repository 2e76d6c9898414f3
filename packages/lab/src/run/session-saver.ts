import { useEffect, useRef } from "preact/hooks";
import { saveSession } from "../session/saved-session.ts";
import type { Settings } from "../settings.ts";
import type { CompareState } from "../state/compare-state.ts";
import type { ViewState } from "../state/view-state.ts";
import type { Store } from "./store.ts";

const SAVE_EVERY_MS = 250;

/**
 * Keeps the session in sessionStorage: at most every 250 ms while events arrive, and when the page is
 * hidden or left. Each save writes the view state with its last event id in one item, so a reload
 * resumes exactly after what that state holds.
 */
export function useSessionSaver(
  view: Store<ViewState>,
  compare: Store<CompareState>,
  apiKey: string,
  settings: Settings,
): void {
  const latest = useRef({ apiKey, settings });
  latest.current = { apiKey, settings };
  const save = useRef(() => saveSession({ ...latest.current, view: view.get(), compare: compare.get() }));

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const later = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        save.current();
      }, SAVE_EVERY_MS);
    };
    const now = () => save.current();
    const unsubscribe = [view.subscribe(later), compare.subscribe(later)];
    addEventListener("pagehide", now);
    document.addEventListener("visibilitychange", now);
    return () => {
      for (const u of unsubscribe) u();
      removeEventListener("pagehide", now);
      document.removeEventListener("visibilitychange", now);
      clearTimeout(timer);
    };
  }, [view, compare]);

  // The key and the form are saved as they change.
  useEffect(() => save.current(), [apiKey, settings]);
}
