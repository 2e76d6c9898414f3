import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { builtinPresetCatalog, type Preset, type PresetCatalog } from "@fusion/wire";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ModelRoutes, type RouteRule } from "./routes.ts";

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
  /** Top-level request fields removed before a call (ones this provider rejects). */
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

const MAX_PANEL = 8;
const nameRe = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const headerNameRe = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A whole number, also written as a string (so that `${VAR}` can supply it). */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^-?\d+$/, `must be a whole number from ${min} to ${max}`),
    ])
    .transform(Number)
    .pipe(
      z
        .number()
        .int(`must be a whole number from ${min} to ${max}`)
        .min(min, `must be a whole number from ${min} to ${max}`)
        .max(max, `must be a whole number from ${min} to ${max}`),
    );

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      return ["http:", "https:"].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, "must be an http(s) URL such as http://127.0.0.1:8000/v1")
  .transform((v) => v.replace(/\/+$/, ""));

const modelSlug = z
  .string()
  .min(1, "must not be empty")
  .max(200)
  .regex(/^\S+$/, "must not contain white space")
  .refine((s) => s !== "openrouter/fusion", "openrouter/fusion cannot be used inside a fusion");

const rewriteFields = {
  strip_prefix: z.string().min(1).optional(),
  model_map: z.record(z.string().min(1), z.string().min(1)).optional(),
};

const providerSchema = z.strictObject({
  base_url: httpUrl,
  api_key: z.string().optional(),
  headers: z
    .record(
      z.string().regex(headerNameRe, "must be a header name"),
      z.union([z.string(), z.number(), z.boolean()]).transform(String),
    )
    .optional(),
  headers_timeout_ms: int(1).optional(),
  body_timeout_ms: int(1).optional(),
  max_retries: int(0, 20).optional(),
  retry_base_ms: int(0).optional(),
  retry_max_ms: int(0).optional(),
  max_concurrency: int(1, 100_000).optional(),
  queue_timeout_ms: int(1).optional(),
  drop_fields: z
    .array(
      z
        .string()
        .min(1, "must not be empty")
        .refine((f) => f !== "model" && f !== "messages", "model and messages cannot be dropped"),
    )
    .optional(),
  ...rewriteFields,
});

const routeSchema = z.strictObject({
  match: z.string().min(1, "must not be empty").max(200),
  provider: z.string().min(1),
  ...rewriteFields,
});

const presetSchema = z.strictObject({
  description: z.string().optional(),
  analysis_models: z.array(modelSlug).min(1).max(MAX_PANEL),
  judge: modelSlug,
});

const fileSchema = z
  .strictObject({
    providers: z
      .record(
        z.string().regex(nameRe, "provider names are letters, digits, '.', '_' and '-'"),
        providerSchema,
      )
      .refine((p) => Object.keys(p).length > 0, "must name at least one provider"),
    routes: z.array(routeSchema).min(1, "must hold at least one route"),
    presets: z
      .record(z.string().regex(nameRe, "preset slugs are letters, digits, '.', '_' and '-'"), presetSchema)
      .optional(),
    default_preset: z.string().min(1).optional(),
  })
  .superRefine((file, ctx) => {
    const providers = Object.keys(file.providers);
    file.routes.forEach((route, i) => {
      if (!Object.hasOwn(file.providers, route.provider)) {
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "provider"],
          message: `unknown provider "${route.provider}"; the file defines ${providers.join(", ")}`,
        });
      }
    });
    const routes = new ModelRoutes(file.routes.map(toRouteRule));
    for (const [slug, preset] of Object.entries(file.presets ?? {})) {
      const models: Array<[string, string | number, string]> = [
        ...preset.analysis_models.map((m, i): [string, number, string] => ["analysis_models", i, m]),
        ["judge", "", preset.judge],
      ];
      for (const [field, index, model] of models) {
        if (routes.resolve(model)) continue;
        ctx.addIssue({
          code: "custom",
          path: ["presets", slug, field, ...(index === "" ? [] : [index])],
          message: `no route matches "${model}"`,
        });
      }
    }
    const slug = file.default_preset;
    if (slug !== undefined && !Object.hasOwn(file.presets ?? {}, slug)) {
      if (!Object.hasOwn(builtinPresetCatalog.presets, slug)) {
        ctx.addIssue({ code: "custom", path: ["default_preset"], message: `unknown preset "${slug}"` });
      }
    }
  });

type FileConfig = z.infer<typeof fileSchema>;

function toRouteRule(route: FileConfig["routes"][number]): RouteRule {
  return {
    match: route.match,
    provider: route.provider,
    ...(route.strip_prefix !== undefined ? { stripPrefix: route.strip_prefix } : {}),
    ...(route.model_map !== undefined ? { modelMap: route.model_map } : {}),
  };
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
  if (p.drop_fields !== undefined) out.dropFields = p.drop_fields;
  return out;
}

const issuePath = (path: ReadonlyArray<PropertyKey>) => path.map(String).join(".") || "(file)";

/** Replaces `${NAME}` / `${NAME:-default}` in every string of a parsed file; unknown names are reported. */
export function expandEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: string[] = [],
  path: Array<string | number> = [],
): unknown {
  if (typeof value === "string") return expandString(value, env, issues, path);
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, issues, [...path, i]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, issues, [...path, k]);
    return out;
  }
  return value;
}

function expandString(
  s: string,
  env: Readonly<Record<string, string | undefined>>,
  issues: string[],
  path: Array<string | number>,
): string {
  const where = issuePath(path);
  let out = "";
  let i = 0;
  while (i < s.length) {
    const at = s.indexOf("$", i);
    if (at < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, at);
    if (s.startsWith("$${", at)) {
      out += "${";
      i = at + 3;
      continue;
    }
    if (!s.startsWith("${", at)) {
      out += "$";
      i = at + 1;
      continue;
    }
    const end = s.indexOf("}", at + 2);
    if (end < 0) {
      issues.push(`${where}: "\${" without a closing "}" (write $\${ for a literal \${)`);
      return out;
    }
    const inner = s.slice(at + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(inner);
    if (!m) {
      issues.push(`${where}: "\${${inner}}" is not a reference (expected \${NAME} or \${NAME:-default})`);
    } else {
      const [, name = "", fallback] = m;
      const v = env[name];
      if (v !== undefined && (v !== "" || fallback === undefined)) out += v;
      else if (fallback !== undefined) out += fallback;
      else issues.push(`${where}: environment variable ${name} is not set`);
    }
    i = end + 1;
  }
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

/** Reads and validates a providers file: `.json`, `.yaml` or `.yml`. */
export function loadFusionConfig(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): FusionConfig {
  const ext = extname(path).toLowerCase();
  if (![".json", ".yaml", ".yml"].includes(ext)) {
    throw new FusionConfigError(`${path}: must be a .json, .yaml or .yml file`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FusionConfigError(
      `${path}: cannot be read (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`,
    );
  }
  let raw: unknown;
  try {
    raw = ext === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const what = ext === ".json" ? "JSON" : "YAML";
    throw new FusionConfigError(`${path}: not valid ${what}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (raw === null || raw === undefined) throw new FusionConfigError(`${path}: the file is empty`);
  return parseFusionConfig(raw, env, path);
}

/**
 * `FUSION_CONFIG`: the path of a providers file, read and validated while the environment is parsed, so
 * that a wrong file stops the service at start-up with the variable, the file and the field named.
 * `${NAME}` references are read from the process environment. Unset or empty: undefined.
 */
export const fusionConfigEnv = () =>
  z
    .string()
    .optional()
    .transform((v, ctx): FusionConfig | undefined => {
      const path = v?.trim();
      if (!path) return undefined;
      try {
        return loadFusionConfig(path);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    });

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
