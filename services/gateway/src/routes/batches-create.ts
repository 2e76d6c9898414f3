import {
  BATCH_ENDPOINT,
  batchJobIds,
  batchJobOptions,
  COMPLETION_WINDOW,
  completionWindowSeconds,
  expiryJobOptions,
  fileNotFound,
  newBatchId,
  parseBatchInput,
  shardOfBatch,
} from "@fusion/intake";
import { FusionError } from "@fusion/wire";
import { z } from "zod";
import { lineBodyChecker } from "../batches/check-line-body.ts";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

const createSchema = z.object({
  input_file_id: z.string().min(1),
  endpoint: z.literal(BATCH_ENDPOINT),
  completion_window: z.string(),
  // OpenAI's bounds: at most 16 pairs, keys up to 64 characters, values up to 512.
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, "at most 16 keys")
    .nullish(),
});

/**
 * `POST /batches`: a batch over an uploaded input file. The file is checked here, at once: each line's
 * `custom_id` (unique), `method` and `url`, and its body as `POST /chat/completions` would check it.
 * A file with problems makes a batch that is `failed` with them in `errors.data` (as OpenAI reports a
 * file that fails validation); otherwise the batch is `in_progress`, and its expiry job (delayed to its
 * `expires_at`) and its batch job are queued in its queue shard.
 */
export function batchesCreateRoute(deps: GatewayDeps) {
  const checkBody = lineBodyChecker(deps);
  return factory.createApp().post("/batches", async (c) => {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new FusionError("bad_request", "the request body is not valid JSON");
    }
    const parsed = createSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
      throw new FusionError("bad_request", `invalid request: ${issues.slice(0, 5).join("; ")}`);
    }
    const { input_file_id: fileId, metadata, completion_window: window } = parsed.data;
    const windowSeconds = completionWindowSeconds(window, deps.env.BATCH_TEST_COMPLETION_WINDOWS);
    if (windowSeconds === undefined)
      throw new FusionError(
        "bad_request",
        `invalid request: completion_window: only "${COMPLETION_WINDOW}" is supported`,
      );
    const owner = c.get("keyId");
    const file = await deps.files.get(owner, fileId);
    if (!file) throw fileNotFound(fileId);
    if (file.purpose !== "batch")
      throw new FusionError(
        "bad_request",
        `file ${fileId} is not a batch input file (purpose ${file.purpose})`,
      );
    const input = parseBatchInput(await deps.files.content(owner, fileId), checkBody);
    const batchId = newBatchId();
    const batch = await deps.batches.create({
      id: batchId,
      owner,
      inputFileId: fileId,
      endpoint: BATCH_ENDPOINT,
      metadata: metadata ?? null,
      completionWindow: window,
      windowSeconds,
      total: input.errors.length > 0 ? 0 : input.lines.length,
      errors: input.errors,
    });
    if (batch.status === "in_progress") {
      const shard = shardOfBatch(deps.shards, batchId);
      const queue = deps.batchQueues[shard.index];
      const expiry = deps.batchExpiryQueues[shard.index];
      if (!queue || !expiry) throw new FusionError("internal", "no batch queue for the batch's shard");
      // The expiry first: a batch whose batch job is lost (a crash right here) still ends at its window.
      await expiry.add(
        "expire",
        { batchId, owner, fileId },
        {
          ...expiryJobOptions,
          jobId: batchJobIds.expiry(batchId),
          delay: Math.max(0, batch.expires_at * 1000 - Date.now()),
        },
      );
      await queue.add(
        "batch",
        { batchId, owner, fileId, step: "split" },
        {
          ...batchJobOptions,
          jobId: batchJobIds.batch(batchId),
        },
      );
    }
    deps.logger.info({ batchId, status: batch.status, lines: input.lines.length }, "batch created");
    return c.json(batch);
  });
}
