/**
 * The request dialect of a provider (which fields it takes, and how it spells them) and the structured
 * output it honours. The default of each follows from the provider's base URL; a providers file (or
 * `UPSTREAM_DIALECT`) may say otherwise.
 */

export const DIALECTS = ["openrouter", "openai", "deepseek", "openai-compatible"] as const;
export type Dialect = (typeof DIALECTS)[number];

/** The strongest `response_format` a provider honours: a JSON Schema, JSON mode only, or none (prompt only). */
export const STRUCTURED_OUTPUTS = ["json_schema", "json_object", "none"] as const;
export type StructuredOutput = (typeof STRUCTURED_OUTPUTS)[number];

/** What a model's provider takes: see `Upstream.capabilities`. */
export interface UpstreamCapabilities {
  dialect: Dialect;
  structuredOutput: StructuredOutput;
}

/** What a request sent as it is was written for: OpenRouter's dialect, with JSON Schema output. */
export const OPENROUTER_CAPABILITIES: Readonly<UpstreamCapabilities> = Object.freeze({
  dialect: "openrouter",
  structuredOutput: "json_schema",
});

const DEFAULT_STRUCTURED_OUTPUT: Record<Dialect, StructuredOutput> = {
  openrouter: "json_schema",
  openai: "json_schema",
  deepseek: "json_object",
  "openai-compatible": "none",
};

/**
 * The dialect a base URL speaks: openrouter.ai is OpenRouter, api.openai.com and Azure OpenAI
 * (`*.openai.azure.com`) are OpenAI, api.deepseek.com is DeepSeek, anything else (vLLM, Ollama, LM
 * Studio, Groq, Mistral, ...) is generic OpenAI-compatible.
 */
export function dialectForUrl(baseUrl: string): Dialect {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return "openai-compatible";
  }
  if (host === "openrouter.ai" || host.endsWith(".openrouter.ai")) return "openrouter";
  if (host === "api.openai.com" || host.endsWith(".openai.azure.com")) return "openai";
  if (host === "api.deepseek.com") return "deepseek";
  return "openai-compatible";
}

/** A provider's capabilities: what it sets, else the defaults of its dialect, which defaults from its URL. */
export function resolveCapabilities(
  baseUrl: string,
  set: { dialect?: Dialect | undefined; structuredOutput?: StructuredOutput | undefined } = {},
): UpstreamCapabilities {
  const dialect = set.dialect ?? dialectForUrl(baseUrl);
  return { dialect, structuredOutput: set.structuredOutput ?? DEFAULT_STRUCTURED_OUTPUT[dialect] };
}
