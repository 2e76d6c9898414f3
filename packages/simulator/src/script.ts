import { z } from "zod";
import { recordingSources } from "./recordings.ts";

/** How the simulator classified a chat-completions request; see `classifyRequest`. */
export const roleSchema = z.enum(["writer", "decider", "judge", "panelist", "plain"]);
export type Role = z.infer<typeof roleSchema>;

const delaySchema = z.number().int().min(0).max(600_000);
const statusSchema = z.number().int().min(400).max(599);

const judgeOutputs = [
  "valid",
  "fenced",
  "prose",
  "invalid",
  "invalid-then-valid",
  "schema-mismatch",
  "empty",
] as const;

/** What a replay answers with comes from its recording: these fields would be silently ignored. */
const REPLAY_CONFLICTS = [
  "reply",
  "fusion",
  "callTool",
  "judgeOutput",
  "toolSteps",
  "parallelTools",
  "badToolCall",
  "fetchUrls",
  "fetchRepeat",
  "tokenDelayMs",
  "hangMs",
  "corrupt",
] as const;

const corruptions = ["garbage-sse", "invalid-json", "truncated", "empty-choices", "error-chunk"] as const;

/**
 * How one model (by the exact slug the request sends) behaves. Every field is optional; an empty
 * script is the default behaviour. Unknown fields are rejected so that typos fail loudly.
 */
export const scriptSchema = z
  .strictObject({
    /** Replaces the text of text answers (plain, decider, panelist, writer); not the judge's JSON. */
    reply: z.string().optional(),
    /** Decider: whether to call `openrouter_fusion`. */
    fusion: z.enum(["call", "decline", "auto"]).optional(),
    /** Decider (and plain): call this tool instead, once per conversation. */
    callTool: z
      .strictObject({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) })
      .optional(),
    /** Judge: the shape of the analysis it answers with. */
    judgeOutput: z.enum(judgeOutputs).optional(),
    /** Panelist (and judge with web tools): tool-calling turns before answering. Default 1. */
    toolSteps: z.union([z.number().int().min(0).max(100), z.literal("endless")]).optional(),
    /** Panelist: tool calls emitted in one turn. Default 1. */
    parallelTools: z.number().int().min(1).max(16).optional(),
    /** Panelist: the first tool call of the first turn is broken. */
    badToolCall: z.enum(["invalid-json", "unknown-tool"]).optional(),
    /**
     * Panelist: its first tool turn calls web_fetch once for each of these URLs, in parallel, instead of
     * searching (when web_fetch is offered). Any string is sent as is, so tests can offer private
     * addresses, odd IP spellings or other schemes to the service's SSRF guard.
     */
    fetchUrls: z.array(z.string().min(1)).min(1).max(16).optional(),
    /** Panelist: asks for each of `fetchUrls` this many times in that turn (a model asking for hundreds of fetches at once). */
    fetchRepeat: z.number().int().min(1).max(100).optional(),
    /** Wait before sending response headers. */
    latencyMs: delaySchema.optional(),
    /** Wait between streamed chunks. */
    tokenDelayMs: delaySchema.optional(),
    /** After headers (and the first chunk when streaming), stay silent this long. */
    hangMs: delaySchema.optional(),
    /** The model's n-th request since the script was set fails with the n-th entry. */
    failures: z
      .array(
        z.strictObject({
          status: statusSchema,
          retryAfter: z.number().min(0).optional(),
          message: z.string().optional(),
        }),
      )
      .optional(),
    /** Every request fails. */
    alwaysFail: z.strictObject({ status: statusSchema, message: z.string().optional() }).optional(),
    /** Broken responses. */
    corrupt: z.enum(corruptions).optional(),
    /** Apply this script only to requests of these roles; others behave as without a script. */
    onlyRoles: z.array(roleSchema).optional(),
    /**
     * Answer with real recordings (paths under `recordings/`, listed in `recordings/sources.json`): the
     * model's first answered request gets the first one, the second the second, and so on; the last one
     * repeats. Each is served byte for byte with its recorded status; see `replay.ts`.
     */
    replay: z.array(z.string().min(1)).min(1).max(64).optional(),
  })
  .superRefine((script, ctx) => {
    if (!script.replay) return;
    for (const [i, file] of script.replay.entries()) {
      if (!recordingSources().has(file)) {
        ctx.addIssue({
          code: "custom",
          path: ["replay", i],
          message: `no recording ${file} in sources.json`,
        });
      }
    }
    for (const field of REPLAY_CONFLICTS) {
      if (script[field] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `${field} has no effect on a replayed model`,
        });
      }
    }
  });
export type Script = z.infer<typeof scriptSchema>;
