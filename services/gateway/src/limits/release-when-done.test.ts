import type { FusionSlot } from "@fusion/runtime";
import { describe, expect, it } from "vitest";
import { releaseWhenDone } from "./release-when-done.ts";

describe("releaseWhenDone", () => {
  const counter = () => {
    let n = 0;
    const slot: FusionSlot = { release: () => void n++ };
    return { slot, count: () => n };
  };
  const stream = (parts: string[], fail?: Error) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
        if (fail) controller.error(fail);
        else controller.close();
      },
    });

  it("releases when the body has been read to the end, and keeps status and headers", async () => {
    const c = counter();
    const res = releaseWhenDone(
      new Response(stream(["a", "b"]), { status: 201, headers: { "x-a": "1" } }),
      c.slot,
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("x-a")).toBe("1");
    expect(c.count()).toBe(0);
    expect(await res.text()).toBe("ab");
    expect(c.count()).toBe(1);
  });

  it("releases when the reader cancels (client gone) and passes the cancel on", async () => {
    const c = counter();
    let cancelled = false;
    const source = new ReadableStream<Uint8Array>({
      pull: () => new Promise(() => {}),
      cancel: () => {
        cancelled = true;
      },
    });
    const res = releaseWhenDone(new Response(source), c.slot);
    await res.body?.cancel();
    expect(c.count()).toBe(1);
    expect(cancelled).toBe(true);
  });

  it("releases when the body fails, and at once for a response without a body", async () => {
    const c = counter();
    const res = releaseWhenDone(new Response(stream(["a"], new Error("boom"))), c.slot);
    await expect(res.text()).rejects.toThrow("boom");
    expect(c.count()).toBe(1);
    const empty = counter();
    releaseWhenDone(new Response(null, { status: 204 }), empty.slot);
    expect(empty.count()).toBe(1);
  });
});
