import type { Settings } from "../settings.ts";
import type { CompareState } from "../state/compare-state.ts";
import type { ViewState } from "../state/view-state.ts";

/**
 * What survives a reload, in sessionStorage (never in a URL): the API key, the form, and the run: its
 * fusion id and reduced view state with the last applied event id, written together in one item so
 * that resuming after that id never applies an event twice.
 */
export interface SavedSession {
  apiKey: string;
  settings: Settings;
  view: ViewState;
  compare: CompareState;
}

const KEY = "fusion-lab.session.v1";

export function loadSession(): Partial<SavedSession> {
  try {
    const text = sessionStorage.getItem(KEY);
    const value: unknown = text ? JSON.parse(text) : undefined;
    return typeof value === "object" && value !== null ? (value as Partial<SavedSession>) : {};
  } catch {
    return {};
  }
}

export function saveSession(session: SavedSession): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // storage full or refused: the page still works, it just cannot resume
  }
}
