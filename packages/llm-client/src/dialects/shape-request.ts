import type { UpstreamCapabilities } from "./dialect.ts";

/** OpenRouter's own request fields: other providers refuse them or ignore them. */
export const OPENROUTER_ONLY_FIELDS = [
  "plugins",
  "provider",
  "transforms",
  "reasoning",
  "usage",
  "models",
  "route",
] as const;

/**
 * A chat-completions body as a provider of this dialect takes it. Bodies are written in OpenRouter's
 * dialect, which goes out as it is; for the others:
 * - `openai`: the `reasoning` object's `effort` becomes `reasoning_effort` (its `max_tokens` has no
 *   equivalent and goes), `max_tokens` becomes `max_completion_tokens`;
 * - `openai`, `deepseek`, `openai-compatible`: OpenRouter's own fields go (`reasoning` among them:
 *   DeepSeek's model name selects reasoning, a generic server has no such field), and so do its server
 *   tools (`tools` entries of type `openrouter:…`, such as `openrouter:web_search`): `tools` keeps the
 *   function tools, and goes with its `tool_choice` when none is left.
 * With JSON mode only (`json_object`), a `json_schema` response format becomes `json_object`.
 * Returns the same object when nothing changes, so that a body can then be sent as it came.
 */
export function shapeRequest(
  body: Record<string, unknown>,
  capabilities: UpstreamCapabilities,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  if (capabilities.dialect === "openai") toOpenAi(out);
  if (capabilities.dialect !== "openrouter") {
    for (const field of OPENROUTER_ONLY_FIELDS) delete out[field];
    withoutServerTools(out);
  }
  if (capabilities.structuredOutput === "json_object" && isJsonSchemaFormat(out.response_format)) {
    out.response_format = { type: "json_object" };
  }
  return sameFields(out, body) ? body : out;
}

/** OpenAI's spellings of what OpenRouter takes: `reasoning_effort`, `max_completion_tokens`. */
function toOpenAi(out: Record<string, unknown>): void {
  const { reasoning } = out;
  if (isRecord(reasoning) && typeof reasoning.effort === "string" && out.reasoning_effort === undefined) {
    out.reasoning_effort = reasoning.effort;
  }
  if (out.max_tokens !== undefined) {
    if (out.max_completion_tokens === undefined) out.max_completion_tokens = out.max_tokens;
    delete out.max_tokens;
  }
}

/** Drops OpenRouter's server tools from `tools` (and `tools` with `tool_choice` when nothing is left). */
function withoutServerTools(out: Record<string, unknown>): void {
  if (!Array.isArray(out.tools)) return;
  const tools = out.tools.filter(
    (t) => !(isRecord(t) && typeof t.type === "string" && t.type.startsWith("openrouter:")),
  );
  if (tools.length === out.tools.length) return;
  if (tools.length > 0) {
    out.tools = tools;
    return;
  }
  delete out.tools;
  delete out.tool_choice;
}

function isJsonSchemaFormat(format: unknown): boolean {
  return isRecord(format) && format.type === "json_schema";
}

/** Whether two bodies hold the same fields with the same (identical) values. */
function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
