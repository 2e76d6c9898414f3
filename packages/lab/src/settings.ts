/** What the set-up form holds. */
export interface Settings {
  prompt: string;
  /** A preset's slug, or "" for a custom panel. */
  preset: string;
  models: string[];
  judge: string;
  maxToolCalls: number;
  webTools: boolean;
  compare: boolean;
  compareModel: string;
}

export const MAX_PANEL = 8;
export const TOOL_CALLS = { min: 1, max: 16, default: 8 } as const;

export const defaultSettings: Settings = {
  prompt: "",
  preset: "",
  models: [],
  judge: "",
  maxToolCalls: TOOL_CALLS.default,
  webTools: true,
  compare: false,
  compareModel: "",
};

/** Why the form cannot run yet, or undefined when it can. */
export function settingsProblem(s: Settings): string | undefined {
  if (!s.prompt.trim()) return "Write a prompt.";
  if (s.models.length < 1 || s.models.length > MAX_PANEL) return `Pick 1 to ${MAX_PANEL} panel models.`;
  if (!s.judge) return "Pick a judge.";
  if (s.compare && !s.compareModel) return "Pick a model to compare with.";
  return undefined;
}
