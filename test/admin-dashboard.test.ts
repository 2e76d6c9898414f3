import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * The queue dashboard of a running gateway (real HTTP through @hono/node-server, real workers): after
 * a fusion, Bull Board's JSON API reports the three queues with their counts, and the page's assets
 * are served from disk.
 */

const adminKey = `adm-${randomBytes(16).toString("hex")}`;
const e2e = useStack({ env: { ADMIN_API_KEY: adminKey } });
const admin = { authorization: `Bearer ${adminKey}` };

interface QueuesBody {
  queues: Array<{ name: string; counts: Record<string, number>; hasWorkers: boolean | null }>;
}

describe("queue dashboard", () => {
  it("lists the turn, judge and panel queues with their counts after a fusion", async () => {
    const url = `${e2e.stack.baseUrl}/admin/queues/api/queues`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${e2e.stack.apiKey}` } })).status).toBe(401);

    const read = async () => {
      const res = await fetch(url, { headers: admin });
      expect(res.status).toBe(200);
      return (await res.json()) as QueuesBody;
    };
    const completedTurns = (body: QueuesBody) => body.queues.find((q) => q.name === "turn")?.counts.completed;
    const before = completedTurns(await read()) ?? 0;

    const res = await e2e.post({
      model: "openrouter/fusion",
      messages: [{ role: "user", content: "Compare two approaches." }],
      plugins: [{ id: "fusion", analysis_models: [uniqueModel("a"), uniqueModel("b")] }],
    });
    expect(res.status).toBe(200);
    await res.json();

    // The turn job completes just after the answer reached the client.
    await expect.poll(async () => completedTurns(await read()), { timeout: 10_000 }).toBe(before + 1);
    const body = await read();
    expect(body.queues.map((q) => q.name).sort()).toEqual(["judge", "panel", "turn"]);
    for (const queue of body.queues) {
      expect(queue.hasWorkers, queue.name).toBe(true);
      for (const state of ["active", "waiting", "waiting-children", "failed", "completed", "delayed"]) {
        expect(typeof queue.counts[state], `${queue.name} ${state}`).toBe("number");
      }
      expect(queue.counts.active).toBe(0);
      expect(queue.counts.failed).toBe(0);
    }
  });

  it("serves the page and its static assets to a browser that opened it once with ?key=", async () => {
    const first = await fetch(`${e2e.stack.baseUrl}/admin/queues?key=${adminKey}`, { redirect: "manual" });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const page = await fetch(new URL(first.headers.get("location") ?? "", e2e.stack.baseUrl), {
      headers: { cookie },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]*static\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const res = await fetch(new URL(asset as string, `${e2e.stack.baseUrl}/admin/queues/`), {
        headers: { cookie },
      });
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
  });

  it("gives each login its own session, which a logout ends (issue 11, finding 10)", async () => {
    const login = async () => {
      const res = await fetch(`${e2e.stack.baseUrl}/admin/queues?key=${adminKey}`, { redirect: "manual" });
      expect(res.status).toBe(303);
      return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    };
    const [one, two] = [await login(), await login()];
    expect(one).not.toBe(two);
    const api = `${e2e.stack.baseUrl}/admin/queues/api/queues`;
    expect((await fetch(api, { headers: { cookie: one } })).status).toBe(200);
    const out = await fetch(`${e2e.stack.baseUrl}/admin/logout`, {
      method: "POST",
      headers: { cookie: one },
    });
    expect(out.status).toBe(204);
    expect((await fetch(api, { headers: { cookie: one } })).status).toBe(401);
    expect((await fetch(api, { headers: { cookie: two } })).status).toBe(200);
  });
});
