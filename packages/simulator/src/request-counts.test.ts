import { describe, expect, it } from "vitest";
import { controlAuthorization } from "./control-token.ts";
import { chat, tool, user, useSimulator } from "./test-support.ts";

const sim = useSimulator();

describe("request counts", () => {
  it("counts recorded requests by role and model without their bodies", async () => {
    await sim.control.clearRequests();
    expect(await sim.control.requestCounts()).toEqual({ total: 0, byRole: {}, byModel: {} });

    await chat(sim.url, {
      model: "sim/panel",
      messages: [user("Compare A and B")],
      tools: [tool("web_search")],
    });
    await chat(sim.url, {
      model: "sim/panel",
      messages: [user("Compare C and D")],
      tools: [tool("web_search")],
    });
    await chat(sim.url, { model: "sim/plain", stream: true, messages: [user("hi")] });
    await fetch(`${sim.url}/v1/models`);

    const counts = await sim.control.requestCounts();
    expect(counts).toEqual({
      total: 4,
      byRole: { panelist: 2, plain: 1, other: 1 },
      byModel: { "sim/panel": 2, "sim/plain": 1, "(none)": 1 },
    });
    const raw = await (
      await fetch(`${sim.url}/_sim/request-counts`, { headers: controlAuthorization(sim.controlToken) })
    ).text();
    expect(raw).not.toContain("Compare A and B");

    await sim.control.clearRequests();
    expect((await sim.control.requestCounts()).total).toBe(0);
  });
});
