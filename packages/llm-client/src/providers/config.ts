import { builtinPresetCatalog, type Preset, type PresetCatalog } from "@fusion/wire";
import type { Dialect, StructuredOutput } from "../dialects/dialect.ts";
import { type FileConfig, fileSchema, toRouteRule } from "./config-file-schema.ts";
import { expandEnv, issuePath } from "./env-references.ts";
import type { RouteRule } from "./routes.ts";

/**
 * The providers file (`FUSION_CONFIG`, JSON or YAML): which upstream serves which model slugs, and
 * presets that add to or redefine the built-in ones. String values may reference the environment as
 * `${NAME}` or `${NAME:-default}` (`$${` stands for a literal `${`).
 */

export interface ProviderConfig {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers: Record<string, string>;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Calls in flight to this provider across every process sharing the Redis. */
  maxConcurrency?: number;
  /** Longest a call waits for a free slot (with `maxConcurrency`). */
  queueTimeoutMs?: number;
  stripPrefix?: string;
  modelMap?: Record<string, string>;
  /** The request dialect it speaks; unset: the one its `baseUrl` implies (`dialectForUrl`). */
  dialect?: Dialect;
  /** The `response_format` it honours; unset: its dialect's default. */
  structuredOutput?: StructuredOutput;
  /** Top-level request fields removed before a call (ones this provider rejects), after the dialect's. */
  dropFields?: string[];
}

export interface FusionConfig {
  /** The file it was read from. */
  path: string;
  providers: Record<string, ProviderConfig>;
  routes: RouteRule[];
  /** The file's presets only; `presetCatalog` merges them with the built-in ones. */
  presets: Record<string, Preset>;
  /** The preset of a fusion that names neither a preset nor models. */
  defaultPreset?: string;
}

export class FusionConfigError extends Error {
  override name = "FusionConfigError";
}

function toProvider(name: string, p: FileConfig["providers"][string]): ProviderConfig {
  const out: ProviderConfig = { name, baseUrl: p.base_url, headers: p.headers ?? {} };
  if (p.api_key?.trim()) out.apiKey = p.api_key.trim();
  if (p.headers_timeout_ms !== undefined) out.headersTimeoutMs = p.headers_timeout_ms;
  if (p.body_timeout_ms !== undefined) out.bodyTimeoutMs = p.body_timeout_ms;
  if (p.max_retries !== undefined) out.maxRetries = p.max_retries;
  if (p.retry_base_ms !== undefined) out.retryBaseMs = p.retry_base_ms;
  if (p.retry_max_ms !== undefined) out.retryMaxMs = p.retry_max_ms;
  if (p.max_concurrency !== undefined) out.maxConcurrency = p.max_concurrency;
  if (p.queue_timeout_ms !== undefined) out.queueTimeoutMs = p.queue_timeout_ms;
  if (p.strip_prefix !== undefined) out.stripPrefix = p.strip_prefix;
  if (p.model_map !== undefined) out.modelMap = p.model_map;
  if (p.dialect !== undefined) out.dialect = p.dialect;
  if (p.structured_output !== undefined) out.structuredOutput = p.structured_output;
  if (p.drop_fields !== undefined) out.dropFields = p.drop_fields;
  return out;
}

/**
 * Validates a parsed providers file (after `${...}` expansion). Throws FusionConfigError listing every
 * problem as `field.path: message`.
 */
export function parseFusionConfig(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
  path = "(inline)",
): FusionConfig {
  const issues: string[] = [];
  const expanded = expandEnv(raw, env, issues);
  if (issues.length) throw configError(path, issues);
  const parsed = fileSchema.safeParse(expanded);
  if (!parsed.success) {
    throw configError(
      path,
      parsed.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`),
    );
  }
  const file = parsed.data;
  const presets: Record<string, Preset> = {};
  for (const [slug, p] of Object.entries(file.presets ?? {})) {
    presets[slug] = {
      slug,
      description: p.description ?? "",
      analysisModels: p.analysis_models,
      judge: p.judge,
    };
  }
  const providers: Record<string, ProviderConfig> = {};
  for (const [name, p] of Object.entries(file.providers)) providers[name] = toProvider(name, p);
  return {
    path,
    providers,
    routes: file.routes.map(toRouteRule),
    presets,
    ...(file.default_preset !== undefined ? { defaultPreset: file.default_preset } : {}),
  };
}

function configError(path: string, issues: string[]): FusionConfigError {
  const shown = issues.slice(0, 20);
  if (issues.length > shown.length) shown.push(`... and ${issues.length - shown.length} more`);
  return new FusionConfigError(`${path}: ${shown.join("; ")}`);
}

/** The presets in effect: the built-in ones, redefined and extended by the file's. */
export function presetCatalog(config: FusionConfig | undefined): PresetCatalog {
  if (!config) return builtinPresetCatalog;
  const presets: Record<string, Preset> = { ...builtinPresetCatalog.presets, ...config.presets };
  const fallback = config.defaultPreset ? presets[config.defaultPreset] : undefined;
  return {
    presets,
    defaultPanel: fallback?.analysisModels ?? builtinPresetCatalog.defaultPanel,
    defaultJudge: fallback?.judge ?? builtinPresetCatalog.defaultJudge,
  };
}
