import { describe, expect, it } from "vitest";
import { BRAVE_SUBSCRIPTION_TOKEN } from "./brave-search.ts";
import { useSimulator } from "./test-support.ts";

const sim = useSimulator();

interface BraveBody {
  type: string;
  query: { original: string };
  web: { type: string; results: { title: string; url: string; description: string; type: string }[] };
}

interface BraveError {
  type: string;
  error: { id: string; status: number; code: string; detail: string; meta: Record<string, unknown> };
  time: number;
}

function brave(query: string, token?: string): Promise<Response> {
  return fetch(`${sim.url}/res/v1/web/search?${query}`, {
    headers: {
      accept: "application/json",
      ...(token === undefined ? {} : { "x-subscription-token": token }),
    },
  });
}

describe("Brave's web search API", () => {
  it("answers with web.results from the simulator's search pages, count honoured", async () => {
    const res = await brave(`q=${encodeURIComponent("redis streams")}&count=3`, BRAVE_SUBSCRIPTION_TOKEN);
    expect(res.status).toBe(200);
    const body = (await res.json()) as BraveBody;
    expect(body.type).toBe("search");
    expect(body.query.original).toBe("redis streams");
    expect(body.web.type).toBe("search");
    expect(body.web.results).toHaveLength(3);
    expect(body.web.results[0]).toMatchObject({
      title: "Result 1 for redis streams",
      url: `${sim.url}/pages/result-1-redis-streams`,
      type: "search_result",
    });
    // Brave highlights the query's words in the description.
    expect(body.web.results[0]?.description).toContain("<strong>redis</strong> <strong>streams</strong>");
    const all = (await (await brave("q=redis", BRAVE_SUBSCRIPTION_TOKEN)).json()) as BraveBody;
    expect(all.web.results).toHaveLength(8);
  });

  it("refuses a missing or wrong subscription token with Brave's 422 SUBSCRIPTION_TOKEN_INVALID", async () => {
    for (const token of [undefined, "not-the-token"]) {
      const res = await brave("q=redis", token);
      expect(res.status).toBe(422);
      const body = (await res.json()) as BraveError;
      expect(body.type).toBe("ErrorResponse");
      expect(body.error).toMatchObject({
        status: 422,
        code: "SUBSCRIPTION_TOKEN_INVALID",
        meta: { component: "authentication" },
      });
    }
  });

  it("accepts the token it is told to from then on, and records each search with its headers", async () => {
    await sim.control.clearRequests();
    await sim.control.acceptBraveToken("rotated-token");
    expect((await brave("q=redis", BRAVE_SUBSCRIPTION_TOKEN)).status).toBe(422);
    expect((await brave("q=redis&count=2", "rotated-token")).status).toBe(200);
    await sim.control.acceptBraveToken(null);
    expect((await brave("q=redis", BRAVE_SUBSCRIPTION_TOKEN)).status).toBe(200);
    const searches = (await sim.control.requests()).filter((r) => r.path === "/res/v1/web/search");
    expect(searches.map((r) => [r.headers["x-subscription-token"], r.body])).toEqual([
      [BRAVE_SUBSCRIPTION_TOKEN, { q: "redis", count: null }],
      ["rotated-token", { q: "redis", count: "2" }],
      [BRAVE_SUBSCRIPTION_TOKEN, { q: "redis", count: null }],
    ]);
  });

  it("refuses an empty query or a count beyond 20 as a VALIDATION error, and fails when told to", async () => {
    for (const query of ["q=", "q=redis&count=21", "q=redis&count=two"]) {
      const res = await brave(query, BRAVE_SUBSCRIPTION_TOKEN);
      expect(res.status, query).toBe(422);
      expect(((await res.json()) as BraveError).error.code).toBe("VALIDATION");
    }
    await sim.control.searchFails(true);
    expect((await brave("q=redis", BRAVE_SUBSCRIPTION_TOKEN)).status).toBe(500);
    await sim.control.searchFails(false);
    expect((await brave("q=redis", BRAVE_SUBSCRIPTION_TOKEN)).status).toBe(200);
  });
});
