import { BRAVE_SUBSCRIPTION_TOKEN } from "@fusion/simulator";
import type { ServiceName } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { bodyOf, type E2E, uniqueModel, useStack } from "./support/fixture.ts";
import { parsePromText, sumOf } from "./support/prom-text.ts";

/**
 * Where the panelists' web_search runs, end to end with the real services: Brave's API (the
 * simulator's, in Brave's shapes), OpenRouter's own server tool (the simulator as the upstream), and
 * no backend at all.
 */

interface UrlCitation {
  type: string;
  url_citation: { url: string; title?: string };
}

interface FusionResponse {
  choices: Array<{ message: { content: string; annotations?: UrlCitation[] } }>;
  usage: { server_tool_use?: { web_search_requests: number } };
  fusion: { status: string; responses: Array<{ model: string; content: string }> };
}

/** A forced fusion of `panel` judged and written by `judge`, answered as JSON. */
async function fuse(e2e: E2E, panel: string[], judge: string, question: string): Promise<FusionResponse> {
  const res = await e2e.post({
    model: "openrouter/fusion",
    messages: [{ role: "user", content: question }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as FusionResponse;
  expect(body.fusion.status).toBe("ok");
  return body;
}

/** The tools of every call of one model: the function names and the server tools' types. */
async function toolsOf(e2e: E2E, model: string) {
  const calls = await e2e.control.requests({ model });
  expect(calls.length).toBeGreaterThan(0);
  return calls.map((call) => {
    const tools = (bodyOf(call).tools ?? []) as Array<{ type?: string; function?: { name?: string } }>;
    return {
      functions: tools.flatMap((t) => (t.type === "function" && t.function?.name ? [t.function.name] : [])),
      server: tools.filter((t) => t.type !== "function"),
    };
  });
}

async function searchErrors(e2e: E2E, service: ServiceName, labels: Record<string, string>): Promise<number> {
  const res = await fetch(e2e.stack.metricsUrl(service));
  return sumOf(parsePromText(await res.text()), "fusion_web_search_errors_total", labels);
}

const citedUrls = (body: FusionResponse) =>
  (body.choices[0]?.message.annotations ?? []).map((a) => a.url_citation.url);

describe("web_search through Brave's API", () => {
  const e2e = useStack({
    simulatorEnv: (url) => ({
      WEB_SEARCH_PROVIDER: "brave",
      WEB_SEARCH_API_KEY: BRAVE_SUBSCRIPTION_TOKEN,
      WEB_SEARCH_URL: url,
    }),
  });
  const braveSearches = async () =>
    (await e2e.control.requests()).filter((r) => r.path === "/res/v1/web/search");

  it("the fusion cites the results the panelists found", async () => {
    const panel = [uniqueModel("brave-p1"), uniqueModel("brave-p2")];
    const judge = uniqueModel("brave-judge");
    const before = (await braveSearches()).length;
    const body = await fuse(e2e, panel, judge, "What changed in Redis 8 streams?");

    // Each panelist (and the judge) searched Brave once, with the key in Brave's header.
    const searches = (await braveSearches()).slice(before);
    expect(searches.length).toBe(3);
    for (const s of searches) expect(s.headers["x-subscription-token"]).toBe(BRAVE_SUBSCRIPTION_TOKEN);
    // A panelist got Brave's results as its tool result, and the answer cites one of them.
    const [, second] = await e2e.control.requests({ model: panel[0] });
    const toolResult = JSON.stringify((bodyOf(second).messages as unknown[]).at(-1));
    const cited = citedUrls(body);
    expect(cited.length).toBeGreaterThan(0);
    expect(cited[0]).toMatch(new RegExp(`^${e2e.sim.url}/pages/result-\\d-`));
    expect(toolResult).toContain(cited[0]);
    expect(body.choices[0]?.message.content).toContain(cited[0]);
  });

  it("a key Brave refuses is a tool error the panelist reads, counted by provider and reason", async () => {
    const panelist = uniqueModel("brave-refused");
    const judge = uniqueModel("brave-refused-judge");
    const labels = { provider: "brave", reason: "auth" };
    const before = {
      panel: await searchErrors(e2e, "panel-worker", labels),
      judge: await searchErrors(e2e, "judge-worker", labels),
    };
    await e2e.control.acceptBraveToken("a-token-the-workers-do-not-have");
    let body: FusionResponse;
    try {
      body = await fuse(e2e, [panelist], judge, "What changed in Redis 8 streams?");
    } finally {
      await e2e.control.acceptBraveToken(null);
    }

    // The panelist answered all the same, having read why its search failed.
    const answer = body.fusion.responses.find((r) => r.model === panelist)?.content ?? "";
    expect(answer).toContain("Tool errors:");
    expect(answer).toMatch(/key/i);
    // Neither the model nor the client ever sees the key.
    for (const call of await e2e.control.requests({ model: panelist })) {
      expect(JSON.stringify(call.body)).not.toContain(BRAVE_SUBSCRIPTION_TOKEN);
    }
    expect(JSON.stringify(body)).not.toContain(BRAVE_SUBSCRIPTION_TOKEN);
    // One failed search of the panelist and one of the judge, each counted where it ran.
    expect(await searchErrors(e2e, "panel-worker", labels)).toBe(before.panel + 1);
    expect(await searchErrors(e2e, "judge-worker", labels)).toBe(before.judge + 1);
  });
});

describe("web_search as OpenRouter's server tool", () => {
  const e2e = useStack({ env: { WEB_SEARCH_PROVIDER: "openrouter" } });

  it("the panel calls carry openrouter:web_search, and the upstream's citations reach the judge and the client", async () => {
    const panel = [uniqueModel("or-p1"), uniqueModel("or-p2")];
    const judge = uniqueModel("or-judge");
    const body = await fuse(e2e, panel, judge, "What changed in Redis 8 streams?");

    for (const model of panel) {
      // One call each: the upstream searched within it, no tool ran here.
      const calls = await toolsOf(e2e, model);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.server).toEqual([{ type: "openrouter:web_search", parameters: { max_results: 5 } }]);
      expect(calls[0]?.functions).not.toContain("web_search");
      expect(calls[0]?.functions).toContain("web_fetch");
    }

    // The judge read each panelist's cited pages, with their titles, as that panelist's sources.
    const judgeCall = (await e2e.control.requests({ model: judge, role: "judge" }))[0];
    const prompt = JSON.stringify(bodyOf(judgeCall).messages);
    for (const model of panel) {
      const block = new RegExp(`<sources model=\\\\"${model}\\\\">([^<]*)</sources>`).exec(prompt)?.[1] ?? "";
      expect(block.match(/\/pages\/result-\d-[^ ]+ — Result \d for /g), model).toHaveLength(5);
    }
    // The client's answer cites one of them, and its usage counts the upstream's searches.
    const cited = citedUrls(body);
    expect(cited.length).toBeGreaterThan(0);
    expect(prompt).toContain(cited[0]);
    expect(cited[0]).toMatch(new RegExp(`^${e2e.sim.url}/pages/result-\\d-`));
    expect(body.usage.server_tool_use?.web_search_requests).toBe(2);
  });
});

describe("no web search backend", () => {
  // No SearXNG, no provider, and an upstream that is not OpenRouter: nowhere to search.
  const e2e = useStack({ env: { SEARXNG_URL: "", UPSTREAM_DIALECT: "openai" } });

  it("the panel calls offer no web_search at all, neither as a function nor as a server tool", async () => {
    const panel = [uniqueModel("none-p1")];
    const judge = uniqueModel("none-judge");
    await fuse(e2e, panel, judge, "What changed in Redis 8 streams?");
    const calls = await toolsOf(e2e, panel[0] ?? "");
    for (const call of calls) {
      expect(call.functions).toEqual(["web_fetch"]);
      expect(call.server).toEqual([]);
    }
  });
});
