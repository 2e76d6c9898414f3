import { builtinPresetCatalog } from "@fusion/wire";
import { z } from "zod";
import { DIALECTS, STRUCTURED_OUTPUTS } from "../dialects/dialect.ts";
import { ModelRoutes, type RouteRule } from "./routes.ts";

/** The schema of a providers file (after `${...}` expansion), as written: snake_case, strict. */

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
  /** Default: from `base_url` (see `dialectForUrl`). */
  dialect: z.enum(DIALECTS, `must be one of ${DIALECTS.join(", ")}`).optional(),
  /** Default: the dialect's (json_schema for openrouter and openai, json_object for deepseek, else none). */
  structured_output: z.enum(STRUCTURED_OUTPUTS, `must be one of ${STRUCTURED_OUTPUTS.join(", ")}`).optional(),
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

export const fileSchema = z
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

export type FileConfig = z.infer<typeof fileSchema>;

export function toRouteRule(route: FileConfig["routes"][number]): RouteRule {
  return {
    match: route.match,
    provider: route.provider,
    ...(route.strip_prefix !== undefined ? { stripPrefix: route.strip_prefix } : {}),
    ...(route.model_map !== undefined ? { modelMap: route.model_map } : {}),
  };
}
