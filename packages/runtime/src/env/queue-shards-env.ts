import { z } from "zod";
import { MAX_QUEUE_SHARDS } from "../jobs/queue-shards.ts";

const WHOLE = /^\d+$/;

/**
 * `QUEUE_SHARDS`: how many queue sets (each under its own hash tag) the deployment runs, 1 by default;
 * digits only, 1 to 64. Every service of a deployment must be given the same number.
 */
export const queueShardsSchema = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = v?.trim() ?? "";
    if (value === "") return 1;
    const n = WHOLE.test(value) ? Number(value) : Number.NaN;
    if (!(n >= 1 && n <= MAX_QUEUE_SHARDS)) {
      ctx.addIssue({
        code: "custom",
        message: `must be a whole number from 1 to ${MAX_QUEUE_SHARDS}, got "${value}"`,
      });
      return z.NEVER;
    }
    return n;
  });

/**
 * `QUEUE_SHARDS_SERVED`: the shards a worker takes jobs from, as comma-separated indexes ("0,2");
 * unset or empty: every shard. Each must be below `QUEUE_SHARDS` (checked where both are known).
 */
export const queueShardsServedSchema = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const items = (v ?? "").split(",").map((s) => s.trim());
    if (items.every((s) => s === "")) return undefined;
    const out: number[] = [];
    for (const item of items) {
      const n = WHOLE.test(item) ? Number(item) : Number.NaN;
      if (!(n >= 0 && n < MAX_QUEUE_SHARDS) || out.includes(n)) {
        const why = out.includes(n)
          ? "is listed twice"
          : `is not a shard index (0 to ${MAX_QUEUE_SHARDS - 1})`;
        ctx.addIssue({ code: "custom", message: `"${item}" ${why}, in "${v}"` });
        return z.NEVER;
      }
      out.push(n);
    }
    return out;
  });
