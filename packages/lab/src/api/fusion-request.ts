import type { Settings } from "../settings.ts";

/** How long a fusion keeps running with no reader, so that a reload can reattach to it. */
const RESUME_GRACE_MS = 30_000;

/**
 * The chat-completions body of a fusion run from the set-up form: the alias (the judge writes the
 * answer), streamed, with the panel, judge, tool budget and web tools in the fusion plugin, progress
 * "full" (the panelists' and the judge's text on the wire) and a resume grace for reloads.
 */
export function fusionRequestBody(settings: Settings, alias: string) {
  const clamp = (n: number) => Math.min(Math.max(Math.round(n), 1), 16);
  return {
    model: alias,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: settings.prompt }],
    plugins: [
      {
        id: "fusion",
        analysis_models: settings.models,
        model: settings.judge,
        max_tool_calls: clamp(settings.maxToolCalls),
        ...(settings.webTools ? {} : { tools: [] }),
      },
    ],
    fusion: { progress: "full", resume_grace_ms: RESUME_GRACE_MS },
  };
}

/** The plain streaming request of the compared single model: the same prompt, usage at the end. */
export function compareRequestBody(model: string, prompt: string) {
  return {
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: prompt }],
  };
}
