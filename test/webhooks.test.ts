import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { freePort } from "@fusion/testing";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * Webhooks against the real services: a receiver on 127.0.0.1 (allow-listed by host:port) checks every
 * signature; fusions that complete, fail or are cancelled notify it once each; a receiver that fails
 * gets every retry and then a recorded failure; callbacks to internal addresses are refused at once;
 * and a webhook due while no judge worker runs is delivered by the next one, from the outbox.
 */
const receiverPort = await freePort();
const secret = `whsec_${randomBytes(24).toString("base64")}`;
const receiver = `http://127.0.0.1:${receiverPort}`;
const e2e = useStack({
  env: {
    WEBHOOK_SECRET: secret,
    WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${receiverPort}`,
    WEBHOOK_URL: `${receiver}/default`,
    // Retries after 100, 200, 400 and 800 ms: five attempts in all.
    WEBHOOK_RETRY_BASE_MS: "100",
    WEBHOOK_RETRY_FOR_MS: "1500",
    WEBHOOK_DISPATCH_INTERVAL_MS: "100",
    // A delivery whose worker died is found (stalled) within 3 s.
    WORKER_LOCK_MS: "2000",
    WORKER_STALLED_INTERVAL_MS: "1000",
  },
});

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body, when its signature verified with the deployment's secret. */
  verified: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
}

const deliveries: Delivery[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString();
    let verified: Delivery["verified"];
    try {
      verified = new Webhook(secret).verify(
        body,
        req.headers as Record<string, string>,
      ) as Delivery["verified"];
    } catch {
      verified = undefined;
    }
    deliveries.push({ path: req.url ?? "", headers: req.headers, body, verified });
    // The first delivery to /hold gets no answer: its worker is killed while it waits.
    if (req.url === "/hold" && deliveries.filter((d) => d.path === "/hold").length === 1) return;
    res.writeHead(req.url?.startsWith("/fail") ? 500 : 204).end();
  });
});

beforeAll(() => new Promise<void>((resolve) => server.listen(receiverPort, "127.0.0.1", resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const to = (fusionId: string) => deliveries.filter((d) => d.headers["webhook-id"] === fusionId);

function fusion(extra: Record<string, unknown> = {}, judge = uniqueModel("judge")) {
  return {
    model: "openrouter/fusion",
    messages: [{ role: "user", content: "notify me" }],
    plugins: [{ id: "fusion", analysis_models: [uniqueModel("p")], model: judge, tools: [] }],
    ...extra,
  };
}

async function status(fusionId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${e2e.stack.baseUrl}/api/v1/fusions/${fusionId}`, {
    headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
  });
  return (await res.json()) as Record<string, unknown>;
}

const webhookOf = async (fusionId: string) => (await status(fusionId)).webhook as Record<string, unknown>;

describe("webhooks", () => {
  it("a completed fusion: one signed delivery with its completion, recorded as delivered", async () => {
    const res = await e2e.post(fusion({ fusion: { webhook: { url: `${receiver}/ok` } } }));
    expect(res.status).toBe(200);
    const completion = (await res.json()) as { id: string };
    const fusionId = completion.id;
    await expect.poll(() => to(fusionId).length, { timeout: 10_000 }).toBe(1);
    const [delivery] = to(fusionId);
    expect(delivery?.path).toBe("/ok");
    expect(delivery?.headers["content-type"]).toBe("application/json");
    expect(delivery?.verified).toEqual({
      type: "fusion.completed",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      data: { id: fusionId, status: "completed", model: "openrouter/fusion", completion },
    });
    await expect.poll(() => webhookOf(fusionId)).toMatchObject({ status: "delivered" });
    expect(await webhookOf(fusionId)).toEqual({
      url: `${receiver}/ok`,
      status: "delivered",
      attempts: [{ at: expect.any(String), status: 204, duration_ms: expect.any(Number) }],
    });
    // Neither the secret nor a signature is shown.
    expect(JSON.stringify(await status(fusionId))).not.toContain(secret.slice(6));
  });

  it("a failed and a cancelled fusion notify too, with their errors", async () => {
    const judge = uniqueModel("writer-fails");
    await e2e.control.script(judge, { corrupt: "invalid-json", onlyRoles: ["writer"] });
    const failed = await e2e.post(fusion({ fusion: { webhook: { url: `${receiver}/ok` } } }, judge));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const failedId = failed.headers.get("x-fusion-id") ?? "";

    const slow = uniqueModel("slow");
    await e2e.control.script(slow, { latencyMs: 20_000 });
    const running = await e2e.post(
      {
        ...fusion({ fusion: { webhook: { url: `${receiver}/ok` } } }),
        plugins: [{ id: "fusion", analysis_models: [slow], model: uniqueModel("judge"), tools: [] }],
      },
      { headers: { prefer: "respond-async" } },
    );
    const cancelledId = running.headers.get("x-fusion-id") ?? "";
    const cancel = await e2e.post("", { path: `/api/v1/fusions/${cancelledId}/cancel` });
    expect(cancel.status).toBe(200);

    await expect.poll(() => to(failedId).length + to(cancelledId).length, { timeout: 10_000 }).toBe(2);
    expect(to(failedId)[0]?.verified).toMatchObject({
      type: "fusion.failed",
      data: {
        id: failedId,
        status: "failed",
        error: { code: expect.any(Number), message: expect.any(String) },
      },
    });
    expect(to(failedId)[0]?.verified?.data.completion).toBeUndefined();
    expect(to(cancelledId)[0]?.verified).toMatchObject({
      type: "fusion.cancelled",
      data: { id: cancelledId, status: "cancelled", error: { code: 499 } },
    });
  });

  it("a receiver that keeps failing gets every retry, then a recorded failure listing each attempt", async () => {
    const res = await e2e.post(fusion({ stream: false, fusion: { webhook: { url: `${receiver}/fail` } } }));
    const fusionId = ((await res.json()) as { id: string }).id;
    await expect.poll(() => webhookOf(fusionId), { timeout: 15_000 }).toMatchObject({ status: "failed" });
    const webhook = await webhookOf(fusionId);
    const attempts = webhook.attempts as Array<{ status: number }>;
    expect(attempts).toHaveLength(5);
    for (const a of attempts)
      expect(a).toEqual({ at: expect.any(String), status: 500, duration_ms: expect.any(Number) });
    // Every attempt reached the receiver signed, the same message id each time.
    expect(to(fusionId)).toHaveLength(5);
    expect(to(fusionId).every((d) => d.verified?.type === "fusion.completed")).toBe(true);
    const metrics = await (await fetch(e2e.stack.metricsUrl("judge-worker"))).text();
    const count = (outcome: string) =>
      Number(
        new RegExp(`^fusion_webhook_deliveries_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, "m").exec(
          metrics,
        )?.[1],
      );
    expect(count("retrying")).toBeGreaterThanOrEqual(4);
    expect(count("failed")).toBeGreaterThanOrEqual(1);
    expect(count("delivered")).toBeGreaterThanOrEqual(1);
  });

  it("the deployment's default URL serves requests that name none; false turns it off", async () => {
    const res = await e2e.post(fusion());
    const fusionId = ((await res.json()) as { id: string }).id;
    await expect.poll(() => to(fusionId).map((d) => d.path), { timeout: 10_000 }).toEqual(["/default"]);

    const off = await e2e.post(fusion({ fusion: { webhook: false } }));
    const offId = ((await off.json()) as { id: string }).id;
    expect((await status(offId)).webhook).toBeUndefined();
  });

  it.each([
    ["a private address", "http://10.0.0.1/hook", /private address/],
    ["a loopback port not allow-listed", `http://127.0.0.1:${receiverPort + 1}/`, /loopback/],
    ["a local host name", `http://localhost:${receiverPort}/`, /local or internal host name/],
    ["credentials", `http://user:pw@127.0.0.1:${receiverPort}/`, /credentials/],
    ["another scheme", "ftp://example.com/", /http\(s\)/],
  ])("a callback to %s is refused with 400", async (_, url, reason) => {
    const res = await e2e.post(fusion({ fusion: { webhook: { url } } }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(400);
    expect(body.error.message).toMatch(reason);
  });

  it("a webhook due while no judge worker runs is delivered by the next one, from the outbox", async () => {
    for (const judge of e2e.stack.services.filter((s) => s.name === "judge-worker"))
      await e2e.stack.kill(judge);
    const res = await e2e.post(fusion({ fusion: { webhook: { url: `${receiver}/ok` } } }), {
      headers: { prefer: "respond-async" },
    });
    const fusionId = res.headers.get("x-fusion-id") ?? "";
    // Its terminal entry is written (by the gateway's cancel) while nothing could deliver it.
    expect((await e2e.post("", { path: `/api/v1/fusions/${fusionId}/cancel` })).status).toBe(200);
    expect(to(fusionId)).toEqual([]);
    e2e.stack.spawn("judge-worker", e2e.stack.services.length, await freePort());
    await expect.poll(() => to(fusionId).length, { timeout: 15_000 }).toBe(1);
    expect(to(fusionId)[0]?.verified?.type).toBe("fusion.cancelled");
  });

  it("a delivery whose judge worker is killed mid-attempt is made again by another", async () => {
    const res = await e2e.post(fusion({ fusion: { webhook: { url: `${receiver}/hold` } } }));
    const fusionId = ((await res.json()) as { id: string }).id;
    await expect.poll(() => to(fusionId).length, { timeout: 10_000 }).toBe(1);
    const alive = (s: (typeof e2e.stack.services)[number]) =>
      s.name === "judge-worker" && s.child.exitCode === null && s.child.signalCode === null;
    const [judge] = e2e.stack.services.filter(alive);
    if (!judge) throw new Error("no judge worker");
    e2e.stack.spawn("judge-worker", e2e.stack.services.length, await freePort());
    await e2e.stack.kill(judge);
    await expect.poll(() => webhookOf(fusionId), { timeout: 15_000 }).toMatchObject({ status: "delivered" });
    // At least once: the receiver saw the message twice, with one id to drop the repeat by.
    expect(to(fusionId).map((d) => d.verified?.type)).toEqual(["fusion.completed", "fusion.completed"]);
    expect((await webhookOf(fusionId)).attempts).toEqual([
      { at: expect.any(String), status: 204, duration_ms: expect.any(Number) },
    ]);
  });

  it("every fusion was notified exactly once, each delivery signed", () => {
    const once = deliveries.filter((d) => !d.path.startsWith("/fail") && d.path !== "/hold");
    const ids = once.map((d) => d.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(deliveries.every((d) => d.verified !== undefined)).toBe(true);
  });
});
