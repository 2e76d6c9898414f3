import { beforeAll, describe, expect, it } from "vitest";
import { createSimulatorApp } from "./app.ts";
import { SimulatorControl } from "./control-client.ts";
import { SimulatorState } from "./state.ts";
import { chat, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
/** A control client given the URL with a trailing slash. */
let control: SimulatorControl;
beforeAll(() => {
  control = new SimulatorControl(`${sim.url}/`);
});

describe("control API", () => {
  it("is healthy", async () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${sim.url}/_sim/health`)).json()).toEqual({ ok: true });
  });

  it("validates scripts", async () => {
    const put = (body: string) =>
      fetch(`${sim.url}/_sim/scripts/${encodeURIComponent("sim/x")}`, { method: "PUT", body });
    expect((await put('{"judgeOutput":"nonsense"}')).status).toBe(400);
    expect((await put('{"typo":1}')).status).toBe(400);
    expect((await put("not json")).status).toBe(400);
    expect((await put('{"failures":[{"status":429,"retryAfter":1}]}')).status).toBe(200);
    expect(sim.state.scripts.get("sim/x")).toEqual({ failures: [{ status: 429, retryAfter: 1 }] });
    await control.clearScripts();
    expect(sim.state.scripts.size).toBe(0);
  });

  it("records requests with headers and body, and filters them", async () => {
    await control.clearRequests();
    await chat(sim.url, {
      model: "~openai/gpt-latest",
      messages: [user("Compare A and B")],
      tools: [tool("openrouter_fusion")],
    });
    await chat(sim.url, { model: "other", stream: true, messages: [user("hi")] });
    await fetch(`${sim.url}/v1/models`);

    const all = await control.requests();
    expect(all.map((r) => r.seq)).toEqual([...all.map((r) => r.seq)].sort((a, b) => a - b));
    expect(all).toHaveLength(3);
    const [decider, plain, models] = all;
    expect(decider).toMatchObject({
      path: "/v1/chat/completions",
      model: "~openai/gpt-latest",
      role: "decider",
      stream: false,
      body: { model: "~openai/gpt-latest" },
    });
    expect(decider?.headers.authorization).toBe("Bearer sk-test");
    expect(decider?.headers["content-type"]).toBe("application/json");
    expect(typeof decider?.at).toBe("number");
    expect(plain).toMatchObject({ model: "other", role: "plain", stream: true });
    expect(models).toMatchObject({ path: "/v1/models", role: null, body: null });

    expect((await control.requests({ model: "other" })).map((r) => r.seq)).toEqual([plain?.seq]);
    expect((await control.requests({ role: "decider" })).map((r) => r.seq)).toEqual([decider?.seq]);
    expect((await fetch(`${sim.url}/_sim/requests?role=boss`)).status).toBe(400);

    await control.clearRequests();
    expect(await control.requests()).toEqual([]);
  });

  it("works in-process with a shared state", async () => {
    const state = new SimulatorState();
    const app = createSimulatorApp(state);
    const put = await app.request("/_sim/scripts/sim%2Fin-process", {
      method: "PUT",
      body: JSON.stringify({ reply: "in process" }),
    });
    expect(put.status).toBe(200);
    expect(state.scripts.get("sim/in-process")).toEqual({ reply: "in process" });
    const res = await app.request("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "sim/in-process", messages: [user("x")] }),
    });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("in process");
    expect(state.listRequests({ model: "sim/in-process" })).toHaveLength(1);
  });
});
