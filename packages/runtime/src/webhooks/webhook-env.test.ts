import { z } from "zod";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../env/common-env.ts";
import { webhookWorkerEnv } from "./webhook-env.ts";

const schema = z.object(webhookWorkerEnv);

describe("the webhook settings", () => {
  it("default to 24 h of retries from 5 s, capped at an hour, and no secret", () => {
    const env = parseEnv(schema, {});
    expect(env.WEBHOOK_SECRET).toBeUndefined();
    expect(env).toMatchObject({
      WEBHOOK_ALLOW_HOSTS: [],
      WEBHOOK_RETRY_FOR_MS: 86_400_000,
      WEBHOOK_RETRY_BASE_MS: 5_000,
      WEBHOOK_RETRY_MAX_DELAY_MS: 3_600_000,
      WEBHOOK_CONCURRENCY: 16,
    });
  });

  it("take a whsec_ secret of 16 bytes or more, and refuse another without repeating it", () => {
    const good = `whsec_${Buffer.alloc(16, 3).toString("base64")}`;
    expect(parseEnv(schema, { WEBHOOK_SECRET: ` ${good} ` }).WEBHOOK_SECRET).toBe(good);
    for (const bad of [
      "hunter2-hunter2-hunter2",
      `whsec_${Buffer.alloc(8, 3).toString("base64")}`,
      "whsec_!!",
    ]) {
      let message = "";
      try {
        parseEnv(schema, { WEBHOOK_SECRET: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/WEBHOOK_SECRET: must be "whsec_"/);
      expect(message).not.toContain(bad);
    }
  });
});
