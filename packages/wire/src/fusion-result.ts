import { z } from "zod";
import { usageSchema } from "./chat.ts";

const sources = z.array(z.string()).optional();

/**
 * The judge's structured comparison. It compares the panel's answers; it never merges them. Items may
 * name the URLs behind them (`sources`; for the plain-string consensus list, the parallel
 * `consensus_sources`), which the shapes of OpenRouter's Fusion leave room for.
 */
export const analysisSchema = z.object({
  consensus: z.array(z.string()),
  consensus_sources: z.array(z.array(z.string())).optional(),
  contradictions: z.array(
    z.object({
      topic: z.string(),
      stances: z.array(z.object({ model: z.string(), stance: z.string() })),
      sources,
    }),
  ),
  partial_coverage: z.array(z.object({ models: z.array(z.string()), point: z.string(), sources })),
  unique_insights: z.array(z.object({ model: z.string(), insight: z.string(), sources })),
  blind_spots: z.array(z.string()),
});
export type Analysis = z.infer<typeof analysisSchema>;

/** JSON Schema of the analysis, sent as `response_format` where the upstream supports structured output. */
export const analysisJsonSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "consensus",
    "consensus_sources",
    "contradictions",
    "partial_coverage",
    "unique_insights",
    "blind_spots",
  ],
  properties: {
    consensus: { type: "array", items: { type: "string" } },
    consensus_sources: { type: "array", items: { type: "array", items: { type: "string" } } },
    contradictions: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["topic", "stances", "sources"],
        properties: {
          topic: { type: "string" },
          sources: { type: "array", items: { type: "string" } },
          stances: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["model", "stance"],
              properties: { model: { type: "string" }, stance: { type: "string" } },
            },
          },
        },
      },
    },
    partial_coverage: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["models", "point", "sources"],
        properties: {
          models: { type: "array", items: { type: "string" } },
          point: { type: "string" },
          sources: { type: "array", items: { type: "string" } },
        },
      },
    },
    unique_insights: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["model", "insight", "sources"],
        properties: {
          model: { type: "string" },
          insight: { type: "string" },
          sources: { type: "array", items: { type: "string" } },
        },
      },
    },
    blind_spots: { type: "array", items: { type: "string" } },
  },
} as const;

const serverToolUseSchema = z.object({
  web_search_requests: z.number(),
  tool_calls_requested: z.number(),
  tool_calls_executed: z.number(),
});

/**
 * A source of a fusion: a page a panelist or the judge searched or fetched, or one a panelist's
 * provider cited itself (an `url_citation` annotation, e.g. OpenRouter's web plugin).
 */
const sourceSchema = z.object({ url: z.string(), title: z.string().optional() });
export type Source = z.infer<typeof sourceSchema>;

/**
 * Why a panelist failed. The upstream client's error kinds (`http` with its status, `timeout`,
 * `network`, `protocol`, `aborted`), and the stage's own: `deadline` (the panel stage's deadline
 * passed), `no_text` (the model answered with no text), `crashed` (anything else, including a panel
 * job whose worker died). `status` is the HTTP status (or the numeric code of an error chunk) when
 * there is one.
 */
const panelFailureKinds = [
  "http",
  "timeout",
  "network",
  "protocol",
  "aborted",
  "deadline",
  "no_text",
  "crashed",
] as const;
export const panelFailureSchema = z.object({
  kind: z.enum(panelFailureKinds),
  status: z.number().int().optional(),
});
export type PanelFailure = z.infer<typeof panelFailureSchema>;

/**
 * What one panelist returns, answer or failure: kept small, because BullMQ stores a child's value
 * several times. A failure is returned rather than thrown so that the tokens it spent still count.
 * A failed panelist carries `failure` (what went wrong, typed) and `error` (the same, for people).
 */
export const panelResultSchema = z.object({
  model: z.string(),
  status: z.enum(["ok", "failed", "cancelled"]),
  content: z.string(),
  error: z.string().optional(),
  failure: panelFailureSchema.optional(),
  usage: usageSchema,
  serverToolUse: serverToolUseSchema,
  urls: z.array(sourceSchema),
  latencyMs: z.number(),
});
export type PanelResult = z.infer<typeof panelResultSchema>;

/** One stage of a fusion in the response's breakdown: a panelist, the judge, or the writer. */
export const stageSchema = z.object({
  model: z.string(),
  status: z.enum(["ok", "failed", "cancelled", "skipped"]),
  latency_ms: z.number(),
  usage: usageSchema,
  tool_calls_requested: z.number(),
  tool_calls_executed: z.number(),
  web_search_requests: z.number(),
  error: z.string().optional(),
});
export type Stage = z.infer<typeof stageSchema>;

const failureReasons = [
  "all_panels_failed",
  "rate_limited",
  "fusion_invocation_capped",
  "unexpected_error",
  "cancelled",
] as const;

/** The fusion tool's result, as the calling model receives it. */
export const fusionToolResultSchema = z.union([
  z.object({
    status: z.literal("ok"),
    analysis: analysisSchema.optional(),
    responses: z.array(z.object({ model: z.string(), content: z.string() })),
    failed_models: z.array(z.string()).optional(),
  }),
  z.object({
    status: z.literal("error"),
    error: z.string(),
    failure_reason: z.enum(failureReasons),
    failed_models: z.array(z.string()).optional(),
  }),
]);
export type FusionToolResult = z.infer<typeof fusionToolResultSchema>;

/** What the judge job returns to the turn job: the tool result, the stages below the turn, the sources. */
export const judgeResultSchema = z.object({
  result: fusionToolResultSchema,
  panel: z.array(stageSchema),
  judge: stageSchema,
  urls: z.array(sourceSchema),
  cancelled: z.boolean().optional(),
});
export type JudgeResult = z.infer<typeof judgeResultSchema>;
