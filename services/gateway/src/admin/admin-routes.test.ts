import { randomBytes } from "node:crypto";
import { type RedisFixture, startRedis } from "@fusion/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../test-gateway.ts";
import { ADMIN_COOKIE } from "./admin-auth.ts";
import { ADMIN_SESSION_TTL_SECONDS, adminSessionKey } from "./admin-sessions.ts";

/**
 * The queue dashboard (Bull Board) behind ADMIN_API_KEY, driven in-process with `app.request` against
 * a real Redis: absent without the key, 401 without the right key, the page, its assets and its JSON
 * API with it, and read-only unless configured otherwise.
 */

let redis: RedisFixture;
const gateways: TestGateway[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await redis?.close();
});

async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
  // The upstream is never called here.
  const gw = await testGateway({ redisUrl: redis.url, upstreamUrl: "http://127.0.0.1:9/v1", env });
  gateways.push(gw);
  return gw;
}

const adminKey = () => `adm-${randomBytes(16).toString("hex")}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface QueuesBody {
  queues: Array<{ name: string; counts: Record<string, number>; readOnlyMode: boolean }>;
}

describe("queue dashboard", () => {
  it("does not exist without ADMIN_API_KEY: /admin/* is 404, whatever the credentials", async () => {
    const gw = await gateway();
    for (const path of ["/admin", "/admin/queues", "/admin/queues/api/queues", "/admin/queues/static/x.js"]) {
      const res = await gw.app.request(path, { headers: gw.auth });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(404);
    }
  });

  it("answers 401 without the admin key, with a wrong one, and with an API key", async () => {
    const key = adminKey();
    const gw = await gateway({ ADMIN_API_KEY: key });
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ["/admin/queues", {}, /missing admin key/],
      ["/admin/queues/api/queues", bearer(`${key}x`), /invalid admin key/],
      ["/admin/queues/api/queues", gw.auth, /invalid admin key/],
      [`/admin/queues?key=${key.slice(0, -1)}`, {}, /invalid admin key/],
      ["/admin/queues", { cookie: `${ADMIN_COOKIE}=${key}` }, /missing admin key/],
      ["/admin/anything", {}, /missing admin key/],
    ];
    for (const [path, headers, message] of cases) {
      const res = await gw.app.request(path, { headers });
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
  });

  it("serves the page, its assets and its JSON API (the three queues with counts) with the key", async () => {
    const key = adminKey();
    const gw = await gateway({ ADMIN_API_KEY: key });
    // Something to count: one job waiting in the turn queue.
    await gw.deps.shardOf("f-admin-test").queues.turn.add("turn", { fusionId: "f-admin-test" });

    const page = await gw.app.request("/admin/queues", { headers: bearer(key) });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("/admin/queues/");
    expect(html).toContain("Fusion queues");

    // A script the page loads, from @bull-board/ui's files.
    const script = /src="([^"]*static\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, "the page loads a script from static/").toBeDefined();
    const asset = await gw.app.request(new URL(script as string, "http://gw/admin/queues/").pathname, {
      headers: bearer(key),
    });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");

    const api = await gw.app.request("/admin/queues/api/queues", { headers: bearer(key) });
    expect(api.status).toBe(200);
    const body = (await api.json()) as QueuesBody;
    expect(body.queues.map((q) => q.name).sort()).toEqual(["judge", "panel", "turn"]);
    const turn = body.queues.find((q) => q.name === "turn");
    expect(turn?.counts.waiting).toBe(1);
    expect(turn?.readOnlyMode).toBe(true);
  });

  it("shows every queue of every shard with QUEUE_SHARDS=3, each job in its fusion's shard", async () => {
    const key = adminKey();
    const gw = await gateway({ ADMIN_API_KEY: key, QUEUE_SHARDS: "3" });
    expect(gw.deps.shards).toHaveLength(3);
    const fusionId = "f-admin-sharded";
    const shard = gw.deps.shardOf(fusionId);
    await shard.queues.turn.add("turn", { fusionId });

    const api = await gw.app.request("/admin/queues/api/queues", { headers: bearer(key) });
    expect(api.status).toBe(200);
    const body = (await api.json()) as QueuesBody;
    const names = ["0", "1", "2"].flatMap((i) => ["judge", "panel", "turn"].map((q) => `shard-${i}.${q}`));
    expect(body.queues.map((q) => q.name).sort()).toEqual(names);
    for (const q of body.queues)
      expect(q.counts.waiting ?? 0, q.name).toBe(q.name === `shard-${shard.index}.turn` ? 1 : 0);
  });

  it("lets a browser in with ?key= once: a cookie (not the key) and a redirect without the key", async () => {
    const key = adminKey();
    const gw = await gateway({ ADMIN_API_KEY: key });
    const res = await gw.app.request(`/admin/queues?key=${encodeURIComponent(key)}&status=latest`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/queues?status=latest");
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(new RegExp(`^${ADMIN_COOKIE}=[0-9a-f]{64};`));
    expect(setCookie).toContain("Path=/admin");
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).not.toContain(key);
    // Over HTTPS (behind a proxy that says so) the cookie is Secure.
    const secure = await gw.app.request(`/admin/queues?key=${key}`, {
      headers: { "x-forwarded-proto": "https" },
    });
    expect(secure.headers.get("set-cookie")).toContain("Secure");

    const cookie = setCookie.split(";")[0] as string;
    const page = await gw.app.request("/admin/queues", { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const api = await gw.app.request("/admin/queues/api/queues", { headers: { cookie } });
    expect(api.status).toBe(200);
    // A cookie of another key does not open this gateway's dashboard.
    const tampered = `${cookie.slice(0, -1)}${cookie.endsWith("0") ? "1" : "0"}`;
    const other = await gw.app.request("/admin/queues", { headers: { cookie: tampered } });
    expect(other.status).toBe(401);
  });

  it("makes each login a new random session in Redis that expires, and a logout deletes it (issue 11, finding 10)", async () => {
    const key = adminKey();
    const gw = await gateway({ ADMIN_API_KEY: key });
    const other = await gateway({ ADMIN_API_KEY: key });
    const login = async () => {
      const res = await gw.app.request(`/admin/queues?key=${encodeURIComponent(key)}`);
      expect(res.status).toBe(303);
      return (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
    };
    const first = await login();
    const second = await login();
    expect(first).not.toBe(second);
    const id = first.slice(`${ADMIN_COOKIE}=`.length);
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    // Redis holds the session (by digest, not the cookie) with an expiry no longer than the cookie's.
    const sessionKey = adminSessionKey(id);
    expect(sessionKey).not.toContain(id);
    const ttl = await gw.deps.redis.ttl(sessionKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ADMIN_SESSION_TTL_SECONDS);
    expect(await gw.deps.redis.keys(`*${id}*`)).toEqual([]);

    // The session works on another gateway on the same Redis.
    const api = "/admin/queues/api/queues";
    expect((await other.app.request(api, { headers: { cookie: first } })).status).toBe(200);

    // Logout deletes the session and clears the cookie; the other session lives on.
    const out = await gw.app.request("/admin/logout", { method: "POST", headers: { cookie: first } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(new RegExp(`^${ADMIN_COOKIE}=;.*Max-Age=0`));
    expect(await gw.deps.redis.exists(sessionKey)).toBe(0);
    expect((await gw.app.request(api, { headers: { cookie: first } })).status).toBe(401);
    expect((await other.app.request(api, { headers: { cookie: first } })).status).toBe(401);
    expect((await gw.app.request(api, { headers: { cookie: second } })).status).toBe(200);

    // An expired session no longer opens the dashboard.
    await gw.deps.redis.pexpire(adminSessionKey(second.slice(`${ADMIN_COOKIE}=`.length)), 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await gw.app.request(api, { headers: { cookie: second } })).status).toBe(401);
  });

  it("is read-only by default; ADMIN_QUEUES_READ_ONLY=false allows actions such as pausing a queue", async () => {
    const key = adminKey();
    const readOnly = await gateway({ ADMIN_API_KEY: key });
    const refused = await readOnly.app.request("/admin/queues/api/queues/panel/pause", {
      method: "PUT",
      headers: bearer(key),
    });
    expect(refused.status).toBe(405);
    expect(await readOnly.deps.shards[0]?.queues.panel.isPaused()).toBe(false);

    const writable = await gateway({ ADMIN_API_KEY: key, ADMIN_QUEUES_READ_ONLY: "false" });
    const paused = await writable.app.request("/admin/queues/api/queues/panel/pause", {
      method: "PUT",
      headers: bearer(key),
    });
    expect(paused.status).toBe(200);
    expect(await writable.deps.shards[0]?.queues.panel.isPaused()).toBe(true);
    await writable.deps.shards[0]?.queues.panel.resume();
  });
});
