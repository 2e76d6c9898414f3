import { beforeEach, describe, expect, it } from "vitest";
import { assemble, chat, completion, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
beforeEach(async () => {
  await sim.control.clearScripts();
});

interface Citation {
  type: string;
  url_citation: { url: string; title: string; content: string; start_index: number; end_index: number };
}

const serverSearch = (parameters?: object) => ({
  type: "openrouter:web_search",
  ...(parameters ? { parameters } : {}),
});

/** Every citation marks its own URL in the answer, and names a result of the simulator's search. */
function expectCitationsOf(content: string, annotations: Citation[]) {
  for (const a of annotations) {
    expect(a.type).toBe("url_citation");
    expect(content.slice(a.url_citation.start_index, a.url_citation.end_index)).toBe(a.url_citation.url);
    expect(a.url_citation.url.startsWith(`${sim.url}/pages/result-`)).toBe(true);
    expect(a.url_citation.title).toMatch(/^Result \d for /);
    expect(a.url_citation.content).toMatch(/^Snippet \d about /);
  }
}

describe("OpenRouter's web search server tool", () => {
  it("answers a panelist at once, citing its search results in annotations, and reports the search", async () => {
    const res = await chat(sim.url, {
      model: "sim/server-search",
      messages: [user("What is new in Redis 8?")],
      tools: [serverSearch({ max_results: 3 }), tool("web_fetch")],
      tool_choice: "auto",
    });
    const body = await completion(res);
    const choice = body.choices[0];
    const message = choice?.message as { content: string; annotations?: Citation[]; tool_calls?: unknown };
    expect(choice?.finish_reason).toBe("stop");
    expect(message.tool_calls).toBeUndefined();
    expect(message.annotations).toHaveLength(3);
    expectCitationsOf(message.content, message.annotations ?? []);
    expect((body.usage as { server_tool_use?: unknown }).server_tool_use).toEqual({ web_search_requests: 1 });
    const [recorded] = await sim.control.requests({ model: "sim/server-search" });
    expect(recorded?.role).toBe("panelist");
  });

  it("classifies a call offering only the server tool as a panelist, five results by default", async () => {
    const body = await completion(
      await chat(sim.url, { model: "sim/server-only", messages: [user("Redis?")], tools: [serverSearch()] }),
    );
    const message = body.choices[0]?.message as { content: string; annotations?: Citation[] };
    expect(message.annotations).toHaveLength(5);
    expectCitationsOf(message.content, message.annotations ?? []);
  });

  it("streams the citations as delta.annotations, one per delta before the text, as OpenRouter does", async () => {
    const res = await chat(sim.url, {
      model: "sim/server-stream",
      messages: [user("What is new in Redis 8?")],
      tools: [serverSearch({ max_results: 2 })],
      stream: true,
      stream_options: { include_usage: true },
    });
    const streamed = await assemble(res);
    const deltas = streamed.chunks.flatMap((c) =>
      c.choices.map((ch) => ch.delta as { annotations?: Citation[]; content?: string }),
    );
    const withAnnotations = deltas.filter((d) => d.annotations);
    expect(withAnnotations.map((d) => [d.annotations?.length, d.content])).toEqual([
      [1, ""],
      [1, ""],
    ]);
    // Before the first piece of text.
    const firstText = deltas.findIndex((d) => (d.content ?? "") !== "");
    expect(deltas.map((d) => d.annotations !== undefined).lastIndexOf(true)).toBeLessThan(firstText);
    const annotations = withAnnotations.flatMap((d) => d.annotations ?? []);
    expectCitationsOf(streamed.content, annotations);
    expect(streamed.finishReason).toBe("stop");
    expect((streamed.usage as { server_tool_use?: unknown }).server_tool_use).toEqual({
      web_search_requests: 1,
    });
  });

  it("leaves function-tool panelists as they were: no annotations, no server searches", async () => {
    const body = await completion(
      await chat(sim.url, {
        model: "sim/function-tools",
        messages: [user("Redis?")],
        tools: [tool("web_search")],
      }),
    );
    const message = body.choices[0]?.message as { annotations?: unknown; tool_calls?: unknown[] };
    expect(message.tool_calls).toHaveLength(1);
    expect(message.annotations).toBeUndefined();
    expect((body.usage as { server_tool_use?: unknown }).server_tool_use).toBeUndefined();
  });
});
