import { beforeAll, describe, expect, it } from "vitest";
import { createSimulatorApp } from "./app.ts";
import { SimulatorControl } from "./control-client.ts";
import { controlAuthorization } from "./control-token.ts";
import { SimulatorState } from "./state.ts";
import { chat, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();
/** A control client given the URL with a trailing slash. */
let control: SimulatorControl;
beforeAll(() => {
  control = new SimulatorControl(`${sim.url}/`, sim.controlToken);
});

describe("control API", () => {
  it("is healthy", async () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${sim.url}/_sim/health`)).json()).toEqual({ ok: true });
  });

  it("answers 404 without its token, so a web_fetch of the pages origin cannot read it (issue 11, finding 12)", async () => {
    await control.script("sim/secret", { reply: "x" });
    await chat(sim.url, { model: "sim/secret", messages: [user("tenant secret prompt")] });
    const wrong = controlAuthorization(`${sim.controlToken}x`);
    for (const headers of [{}, wrong, { authorization: sim.controlToken }]) {
      for (const [method, path] of [
        ["GET", "/_sim/requests"],
        ["GET", "/_sim/requests?model=sim%2Fsecret"],
        ["GET", "/_sim/request-counts"],
        ["GET", "/_sim/scripts"],
        ["DELETE", "/_sim/requests"],
        ["PUT", "/_sim/scripts/sim%2Fsecret"],
        ["POST", "/_sim/search"],
        ["PUT", "/_sim/brave-token"],
      ] as const) {
        const res = await fetch(`${sim.url}${path}`, {
          method,
          headers,
          body: method === "GET" ? undefined : "{}",
        });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(await res.text()).not.toContain("tenant secret prompt");
      }
    }
    // Nothing was changed, and the pages, search and health stay open.
    expect(sim.state.scripts.get("sim/secret")).toEqual({ reply: "x" });
    expect((await control.requests({ model: "sim/secret" })).length).toBe(1);
    expect((await fetch(`${sim.url}/pages/anything`)).status).toBe(200);
    expect((await fetch(`${sim.url}/search?q=x&format=json`)).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/health`)).status).toBe(200);
  });

  it("validates scripts", async () => {
    const put = (body: string) =>
      fetch(`${sim.url}/_sim/scripts/${encodeURIComponent("sim/x")}`, {
        method: "PUT",
        body,
        headers: controlAuthorization(sim.controlToken),
      });
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
    const boss = await fetch(`${sim.url}/_sim/requests?role=boss`, {
      headers: controlAuthorization(sim.controlToken),
    });
    expect(boss.status).toBe(400);

    await control.clearRequests();
    expect(await control.requests()).toEqual([]);
  });

  it("works in-process with a shared state", async () => {
    const state = new SimulatorState();
    const app = createSimulatorApp(state, { controlToken: "in-process-token" });
    const put = await app.request("/_sim/scripts/sim%2Fin-process", {
      method: "PUT",
      headers: controlAuthorization("in-process-token"),
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
