import { readSseFrames } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";
import { dataOf } from "./support/sse.ts";

/**
 * An upstream that answers garbage: every broken answer becomes an error of that one model (a failed
 * panelist, a tool error the model recovers from, an error chunk or error response from the writer),
 * never a crashed worker. After each case the workers are still alive and serve the next fusion.
 */

const e2e = useStack();

const corruptions = ["garbage-sse", "invalid-json", "truncated", "empty-choices", "error-chunk"] as const;

type Fusion = {
  status: string;
  responses?: Array<{ model: string; content: string }>;
  failed_models?: string[];
};
type ToolMessage = { role: string; content?: string };

function fuse(panel: string[], judge: string, extra: Record<string, unknown> = {}) {
  return e2e.post({
    model: "openrouter/fusion",
    messages: [{ role: "user", content: "Is the upstream sane?" }],
    plugins: [{ id: "fusion", analysis_models: panel, model: judge }],
    ...extra,
  });
}

/** Every service process is still running, and nothing in any log looks like a crash. */
function expectNoCrash() {
  for (const s of e2e.stack.services) {
    expect(s.child.exitCode, `${s.name}#${s.index} exited`).toBeNull();
    expect(s.child.signalCode, `${s.name}#${s.index} was killed`).toBeNull();
  }
  const lines = e2e.stack.logs.split("\n");
  const crashes = lines.filter(
    (l) =>
      /uncaught|unhandled|UnhandledPromiseRejection|"level":"fatal"/i.test(l) ||
      /^\S+ (\s+at |Node\.js v\d|[A-Za-z]*Error: )/.test(l),
  );
  expect(crashes).toEqual([]);
}

/** A healthy fusion, through the same workers, right after the faults. */
async function expectServesNext() {
  const res = await fuse([uniqueModel("healthy")], uniqueModel("judge"));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { fusion: Fusion; choices: Array<{ message: { content: string } }> };
  expect(body.fusion.status, JSON.stringify(body.fusion)).toBe("ok");
  expect(body.fusion.failed_models ?? []).toEqual([]);
  expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
}

describe("panelists whose upstream answers garbage", () => {
  it("each corrupt answer fails only that panelist; broken tool calls become tool errors it recovers from", async () => {
    const corrupt = corruptions.map((mode) => ({ mode, model: uniqueModel(mode) }));
    const badJson = uniqueModel("bad-json-args");
    const badTool = uniqueModel("unknown-tool");
    const healthy = uniqueModel("healthy");
    const judge = uniqueModel("judge");
    for (const { mode, model } of corrupt) await e2e.control.script(model, { corrupt: mode });
    await e2e.control.script(badJson, { badToolCall: "invalid-json" });
    await e2e.control.script(badTool, { badToolCall: "unknown-tool" });
    await e2e.control.script(judge, { toolSteps: 0 });

    const panel = [...corrupt.map((c) => c.model), badJson, badTool, healthy];
    const res = await fuse(panel, judge);
    expect(res.status).toBe(200);
    const { fusion } = (await res.json()) as { fusion: Fusion };
    expect(fusion.status, JSON.stringify(fusion)).toBe("ok");
    expect([...(fusion.failed_models ?? [])].sort()).toEqual(corrupt.map((c) => c.model).sort());
    expect(fusion.responses?.map((r) => r.model).sort()).toEqual([badJson, badTool, healthy].sort());

    // A broken answer is not retried; an error the upstream reports (a 502 in the body) is, like a 502:
    // 1 + UPSTREAM_MAX_RETRIES (3) attempts.
    for (const { mode, model } of corrupt) {
      expect(await e2e.control.requests({ model }), model).toHaveLength(mode === "error-chunk" ? 4 : 1);
    }

    // The broken tool call came back to the model as a tool error; it answered on the next turn.
    const expected: Array<[string, RegExp]> = [
      [badJson, /invalid arguments/],
      [badTool, /unknown tool no_such_tool; available: web_search, web_fetch/],
    ];
    for (const [model, error] of expected) {
      const calls = await e2e.control.requests({ model });
      expect(calls, model).toHaveLength(2);
      const tools = ((calls[1]?.body as { messages?: ToolMessage[] } | undefined)?.messages ?? []).filter(
        (m) => m.role === "tool",
      );
      expect(tools).toHaveLength(1);
      expect((JSON.parse(tools[0]?.content ?? "{}") as { error?: string }).error).toMatch(error);
      const answer = fusion.responses?.find((r) => r.model === model)?.content ?? "";
      expect(answer).toMatch(/^Answer from /);
      expect(answer).toMatch(error);
    }

    expectNoCrash();
    await expectServesNext();
  });
});

describe("a writer whose upstream answers garbage", () => {
  it.each(corruptions)(
    "%s while the client streams → an error chunk with finish_reason error",
    async (mode) => {
      const judge = uniqueModel(`writer-${mode}`);
      await e2e.control.script(judge, { corrupt: mode, onlyRoles: ["writer"] });
      const res = await fuse([uniqueModel("p")], judge, { stream: true });
      expect(res.status).toBe(200);
      const data = dataOf(await readSseFrames(res));
      expect(data.at(-1)).toBe("[DONE]");
      const chunks = data.filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null);
      const last = chunks.at(-1) as {
        error?: { message?: string };
        choices?: Array<{ finish_reason?: string | null }>;
      };
      expect(last.error?.message).toMatch(/.+/);
      expect(last.choices?.[0]?.finish_reason).toBe("error");
      // No chunk before it claims a normal end.
      for (const c of chunks.slice(0, -1)) {
        const finish = (c as { choices?: Array<{ finish_reason?: string | null }> }).choices?.[0]
          ?.finish_reason;
        expect(finish ?? null).toBeNull();
      }
      expectNoCrash();
    },
  );

  it.each(corruptions)("%s for a non-streaming client → a 5xx in the error shape", async (mode) => {
    const judge = uniqueModel(`writer-${mode}`);
    await e2e.control.script(judge, { corrupt: mode, onlyRoles: ["writer"] });
    const res = await fuse([uniqueModel("p")], judge);
    expect(res.status).toBeGreaterThanOrEqual(500);
    const body = (await res.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(res.status);
    expect(body.error.message).toMatch(/the model could not answer/);
    expectNoCrash();
  });

  it("the workers still serve fusions afterwards", async () => {
    await expectServesNext();
    expectNoCrash();
  });
});
