import { z } from "zod";
import { chatMessageSchema } from "./chat.ts";
import { fusionSettingsSchema } from "./chat-request.ts";
import { progressLevelSchema } from "./progress.ts";
import { writerDecisionSchema, writerRequestSchema } from "./writer-request.ts";

/**
 * The data of the three jobs of a fusion as the stages work on it, the caller's conversation
 * included. In Redis the jobs hold it without the conversation (`stored-jobs.ts`), which is stored
 * once per fusion. Queue names, job ids and options are the runtime's (`job-catalog.ts`).
 */
const requestContext = {
  fusionId: z.string(),
  requestId: z.string(),
  /**
   * The progress the stages write to the fusion's stream (only a streaming client reads it). Jobs
   * stored before levels carried `emitProgress: boolean` instead; the runtime's loaders read that as
   * `events` or `none` (`withProgressLevel`).
   */
  progress: progressLevelSchema.default("none"),
};

/** What the panel deliberates on: the caller's conversation and the question; each stage builds its own prompt. */
const deliberation = {
  /** The caller's conversation. */
  messages: z.array(chatMessageSchema),
  /** The question for the panel, when the model asked one (it may differ from the last user message). */
  question: z.string().optional(),
  settings: fusionSettingsSchema,
};

export const panelJobSchema = z.object({
  ...requestContext,
  ...deliberation,
  /** Position of the panelist in `analysis_models`. */
  index: z.number().int().min(0),
  model: z.string(),
});
export type PanelJobData = z.infer<typeof panelJobSchema>;

export const judgeJobSchema = z.object({
  ...requestContext,
  ...deliberation,
  /** Panel job ids in panel order, so that failures can be named by model. */
  panel: z.array(z.object({ jobId: z.string(), model: z.string() })),
});
export type JudgeJobData = z.infer<typeof judgeJobSchema>;

export const turnSteps = ["decide", "await-fusion", "done"] as const;
export type TurnStep = (typeof turnSteps)[number];

export const turnJobSchema = z.object({
  ...requestContext,
  /** `forced`: the fusion runs without asking the model (alias, tool_choice). `offered`: the model decides. */
  mode: z.enum(["forced", "offered"]),
  stream: z.boolean(),
  includeUsage: z.boolean(),
  /** The model that decides and writes the final answer. */
  writerModel: z.string(),
  /** The caller's request for the writer model: messages, its own tools and pass-through parameters. */
  body: writerRequestSchema,
  settings: fusionSettingsSchema,
  createdAt: z.number(),
  /**
   * Background work (an async request, a batch's line): the jobs it adds later (an offered fusion's
   * judge flow) run at the background priority too. Absent: interactive.
   */
  background: z.boolean().optional(),
  /** Progress of the turn, kept in the job so that a retried or resumed job continues where it was. */
  step: z.enum(turnSteps).default("decide"),
  decision: writerDecisionSchema.optional(),
});
export type TurnJobData = z.infer<typeof turnJobSchema>;
export type TurnJobInput = z.input<typeof turnJobSchema>;
