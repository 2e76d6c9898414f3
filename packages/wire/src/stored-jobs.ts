import { z } from "zod";
import { judgeJobSchema, panelJobSchema, turnJobSchema } from "./jobs.ts";
import { writerRequestSchema } from "./writer-request.ts";

/**
 * What a fusion's jobs hold in Redis. The caller's request is stored once per fusion (the
 * conversation record, runtime `conversation-store.ts`); the jobs refer to it by their `fusionId`
 * and the workers load it before they run a stage. So a large conversation costs one copy in Redis,
 * not one per panel model.
 */
export const fusionConversationSchema = z.object({
  /** The caller's request for the writer model: messages, its own tools and pass-through parameters. */
  body: writerRequestSchema,
  /**
   * A forced fusion: the id of the fusion call the gateway decided on. Its decision (the call, whose
   * question is the last user message) is rebuilt from it (pipeline `forcedDecision`).
   */
  forcedCallId: z.string().optional(),
  /**
   * When the stored conversation expires (epoch ms), as the gateway set it: what lives as long as the
   * fusion (its tool-call counter) takes this lifetime without asking Redis. Absent in conversations
   * stored before it was written.
   */
  expiresAt: z.number().int().nonnegative().optional(),
});
export type FusionConversation = z.infer<typeof fusionConversationSchema>;
export type FusionConversationInput = z.input<typeof fusionConversationSchema>;

/** A panel job as stored: without the conversation. */
export const storedPanelJobSchema = panelJobSchema.omit({ messages: true });
export type StoredPanelJob = z.infer<typeof storedPanelJobSchema>;

/** The judge job as stored: without the conversation. */
export const storedJudgeJobSchema = judgeJobSchema.omit({ messages: true });
export type StoredJudgeJob = z.infer<typeof storedJudgeJobSchema>;

/** The turn job as stored: without the caller's request; a forced turn without its decision too (both rebuilt). */
export const storedTurnJobSchema = turnJobSchema.omit({ body: true });
export type StoredTurnJob = z.infer<typeof storedTurnJobSchema>;
export type StoredTurnJobInput = z.input<typeof storedTurnJobSchema>;
