import { z } from "zod";
import { chatMessageSchema, functionToolSchema } from "./chat.ts";
import { FusionError } from "./error-shape.ts";
import { builtinPresetCatalog, FUSION_ALIAS, type PresetCatalog } from "./presets.ts";
import { MAX_WEBHOOK_URL_CHARS } from "./webhook.ts";

/** The name under which the fusion server tool is shown to a model (function names cannot hold `:`). */
export const FUSION_TOOL_NAME = "openrouter_fusion";
export const FUSION_TOOL_TYPE = "openrouter:fusion";
export const FUSION_DEPTH_HEADER = "x-openrouter-fusion-depth";

const MAX_PANEL = 8;
export const DEFAULT_MAX_TOOL_CALLS = 8;

const modelSlug = z
  .string()
  .min(1, "must not be empty")
  .max(200)
  .regex(/^\S+$/, "must not contain white space")
  .refine((s) => s !== FUSION_ALIAS, `${FUSION_ALIAS} cannot be used inside a fusion`);

export const webToolNames = ["web_search", "web_fetch"] as const;
export type WebToolName = (typeof webToolNames)[number];

const innerToolSchema = z.union([
  z.enum(["web_search", "web_fetch", "openrouter:web_search", "openrouter:web_fetch"]),
  z.looseObject({
    type: z.enum(["openrouter:web_search", "openrouter:web_fetch", "web_search", "web_fetch"]),
  }),
]);

/** The fields shared by the `fusion` plugin and the `openrouter:fusion` tool's `parameters`. */
export const fusionFieldsSchema = z.looseObject({
  /** Checked against the deployment's presets by `chatRequestSchemaFor`. */
  preset: z.string().min(1, "must not be empty").max(100).optional(),
  analysis_models: z.array(modelSlug).min(1).max(MAX_PANEL).optional(),
  model: modelSlug.optional(),
  max_tool_calls: z.number().int().min(1).max(16).optional(),
  enabled: z.boolean().optional(),
  tools: z.array(innerToolSchema).max(8).optional(),
  max_completion_tokens: z.number().int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  reasoning: z
    .looseObject({
      effort: z.enum(["minimal", "low", "medium", "high", "xhigh", "none"]).optional(),
      max_tokens: z.number().int().min(1).optional(),
    })
    .optional(),
});
export type FusionFields = z.infer<typeof fusionFieldsSchema>;

const fusionPluginSchema = fusionFieldsSchema.extend({ id: z.literal("fusion") });
const otherPluginSchema = z.looseObject({ id: z.string().min(1) });

const fusionToolEntrySchema = z.looseObject({
  type: z.literal(FUSION_TOOL_TYPE),
  parameters: fusionFieldsSchema.optional(),
});
const otherServerToolSchema = z.looseObject({ type: z.string().regex(/^openrouter:/) });

/**
 * A fusion plugin or tool entry that fails its own schema still matches the catch-all branch of its
 * union (any plugin id, any `openrouter:` tool); this checks such entries against the fusion schema,
 * so that their issues are reported, with their full path, instead of being accepted.
 */
function checkFusionEntries(isFusion: (entry: Record<string, unknown>) => boolean, schema: z.ZodType) {
  return (entries: Array<Record<string, unknown>>, ctx: z.RefinementCtx) => {
    entries.forEach((entry, i) => {
      if (!isFusion(entry)) return;
      const parsed = schema.safeParse(entry);
      for (const issue of parsed.error?.issues ?? []) {
        ctx.addIssue({ code: "custom", message: issue.message, path: [i, ...issue.path] });
      }
    });
  };
}

export const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
  z.looseObject({ type: z.literal(FUSION_TOOL_TYPE) }),
]);

/**
 * Our own options of a request, `"fusion": {...}`, which never reach the upstream. `progress`: `true`
 * sends the fusion's progress as named `fusion.progress` events, `"full"` adds the panelists' and the
 * judge's text as it is written (see `ProgressLevel`); anything else is refused. The gateway checks
 * `resume_grace_ms` itself, and the webhook's URL against its policy.
 */
export const fusionOptionsSchema = z.looseObject({
  progress: z.union([z.boolean(), z.literal("full")], { error: 'must be true, false or "full"' }).nullish(),
  /** The callback notified when the fusion ends; `false` or null: none, not even the deployment's default. */
  webhook: z
    .union([z.literal(false), z.looseObject({ url: z.string().max(MAX_WEBHOOK_URL_CHARS) })], {
      error: 'must be {"url": "https://..."}, false or null',
    })
    .nullish(),
});
export type FusionOptions = z.infer<typeof fusionOptionsSchema>;

/**
 * An inbound chat-completions request. Known fields are checked; everything else is kept and passed
 * through to the upstream untouched.
 */
const baseChatRequestSchema = z.looseObject({
  model: z.string().min(1, "must not be empty").max(200),
  messages: z.array(chatMessageSchema).min(1, "must hold at least one message"),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  tools: z
    .array(
      z.union([fusionToolEntrySchema, functionToolSchema, otherServerToolSchema], {
        error: "each tool must be a function tool or an openrouter: server tool",
      }),
    )
    .max(128)
    .superRefine(checkFusionEntries((t) => t.type === FUSION_TOOL_TYPE, fusionToolEntrySchema))
    .optional(),
  tool_choice: toolChoiceSchema.optional(),
  plugins: z
    .array(z.union([fusionPluginSchema, otherPluginSchema]))
    .max(32)
    .superRefine(checkFusionEntries((p) => p.id === "fusion", fusionPluginSchema))
    .optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  n: z.literal(1, "only n=1 is supported").optional(),
  fusion: fusionOptionsSchema.nullish(),
});

/** Reports each fusion plugin or tool whose `preset` the catalog does not know, at its path. */
function checkPresets(catalog: PresetCatalog) {
  const known = Object.keys(catalog.presets);
  const message = (slug: string) => `unknown preset "${slug}"; expected one of ${known.join(", ")}`;
  return (request: z.infer<typeof baseChatRequestSchema>, ctx: z.RefinementCtx) => {
    request.plugins?.forEach((p, i) => {
      const preset = (p as { preset?: unknown }).preset;
      if (p.id === "fusion" && typeof preset === "string" && !Object.hasOwn(catalog.presets, preset)) {
        ctx.addIssue({ code: "custom", message: message(preset), path: ["plugins", i, "preset"] });
      }
    });
    request.tools?.forEach((t, i) => {
      const preset = (t as { parameters?: { preset?: unknown } }).parameters?.preset;
      if (
        t.type === FUSION_TOOL_TYPE &&
        typeof preset === "string" &&
        !Object.hasOwn(catalog.presets, preset)
      ) {
        ctx.addIssue({
          code: "custom",
          message: message(preset),
          path: ["tools", i, "parameters", "preset"],
        });
      }
    });
  };
}

/** The request schema of a deployment whose presets are `catalog` (a providers file may add some). */
export function chatRequestSchemaFor(catalog: PresetCatalog) {
  return baseChatRequestSchema.superRefine(checkPresets(catalog));
}

/** The request schema with the built-in presets. */
export const chatRequestSchema = chatRequestSchemaFor(builtinPresetCatalog);
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Settings of one fusion after presets, defaults and explicit fields are applied. */
export const fusionSettingsSchema = z.object({
  analysisModels: z.array(z.string()).min(1).max(MAX_PANEL),
  judgeModel: z.string(),
  maxToolCalls: z.number().int().min(1).max(16),
  tools: z.array(z.enum(webToolNames)),
  temperature: z.number().optional(),
  maxCompletionTokens: z.number().optional(),
  reasoning: z.record(z.string(), z.unknown()).optional(),
});
export type FusionSettings = z.infer<typeof fusionSettingsSchema>;

export type EntryPoint = "alias" | "plugin" | "tool";

export function resolveFusionSettings(
  fields: FusionFields,
  entry: EntryPoint,
  callerModel: string,
  catalog: PresetCatalog = builtinPresetCatalog,
): { settings: FusionSettings; writerModel: string } {
  const preset =
    fields.preset && Object.hasOwn(catalog.presets, fields.preset)
      ? catalog.presets[fields.preset]
      : undefined;
  if (fields.preset && !preset) throw new FusionError("bad_request", `unknown preset "${fields.preset}"`);
  const analysisModels = fields.analysis_models ?? [...(preset?.analysisModels ?? catalog.defaultPanel)];
  const fallbackJudge = entry === "alias" ? catalog.defaultJudge : callerModel;
  const judgeModel = fields.model ?? preset?.judge ?? fallbackJudge;
  const tools = fields.tools
    ? [...new Set(fields.tools.map((t) => (typeof t === "string" ? t : t.type).replace(/^openrouter:/, "")))]
    : [...webToolNames];
  const settings: FusionSettings = {
    analysisModels,
    judgeModel,
    maxToolCalls: fields.max_tool_calls ?? DEFAULT_MAX_TOOL_CALLS,
    tools: tools as FusionSettings["tools"],
  };
  if (fields.temperature !== undefined) settings.temperature = fields.temperature;
  if (fields.max_completion_tokens !== undefined) settings.maxCompletionTokens = fields.max_completion_tokens;
  if (fields.reasoning !== undefined) settings.reasoning = fields.reasoning;
  return { settings, writerModel: entry === "alias" ? judgeModel : callerModel };
}

/** The fusion tool as the calling model sees it: an ordinary function. */
export const fusionFunctionTool = {
  type: "function",
  function: {
    name: FUSION_TOOL_NAME,
    description:
      "Consult a panel of expert models that research the question in parallel (with web search and page " +
      "fetching) and a judge that compares their answers: consensus, contradictions, unique insights and " +
      "blind spots. It is slow and costly. Call it only when the task genuinely needs deliberation: " +
      "research, expert critique, comparing perspectives, or when being wrong is expensive. Do not call it " +
      "for short, simple or tactical requests; answer those directly.",
    parameters: {
      type: "object",
      properties: {
        question: {
          type: "string",
          description: "The question or task for the panel, self-contained. Defaults to the user's request.",
        },
      },
      additionalProperties: false,
    },
  },
} as const;

/** Body fields the plugin passes on to every inner (panel and judge) call. */
export function innerCallBody(settings: FusionSettings): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (settings.temperature !== undefined) body.temperature = settings.temperature;
  if (settings.maxCompletionTokens !== undefined) body.max_completion_tokens = settings.maxCompletionTokens;
  if (settings.reasoning !== undefined) body.reasoning = settings.reasoning;
  return body;
}
