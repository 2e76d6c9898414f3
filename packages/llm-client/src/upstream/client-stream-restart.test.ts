import type { ServerResponse } from "node:http";
import {
  finishChunk,
  sendEvent,
  startScriptedServer,
  startSse,
  textChunk,
  usageChunk,
} from "@fusion/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ProviderRouter } from "../providers/router.ts";
import type { RetryInfo } from "./call-options.ts";
import { UpstreamError } from "./errors.ts";
import { useScriptedUpstream } from "./scripted-upstream.ts";

/**
 * `streamTurn` with `onRestart`: a call whose stream breaks (retryably) after its first chunk is started
 * over, and the caller is told first, so it can drop what it showed of the broken attempt.
 */

const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };
const upstream = useScriptedUpstream({ maxRetries: 2 });

/** Sends `text` then breaks the connection (a retryable network error after the first chunk). */
function breakAfter(res: ServerResponse, text: string): void {
  startSse(res);
  sendEvent(res, textChunk(text));
  setTimeout(() => res.destroy(), 20);
}

function answer(res: ServerResponse, ...pieces: string[]): void {
  startSse(res);
  for (const piece of pieces) sendEvent(res, textChunk(piece));
  sendEvent(res, finishChunk());
  sendEvent(res, usageChunk(4, 2));
  sendEvent(res, "[DONE]");
  res.end();
}

describe("UpstreamClient.streamTurn with onRestart", () => {
  it("starts a call over when its stream breaks after text, telling the caller first", async () => {
    const { server, client } = await upstream.start((req, res) => {
      if (req.n === 1) breakAfter(res, "Half an ans");
      else answer(res, "A whole ", "answer.");
    });
    const told: string[] = [];
    const restarts: RetryInfo[] = [];
    const turn = await client.streamTurn(request, {
      onText: (text) => told.push(text),
      onRestart: (info) => {
        restarts.push(info);
        told.push("<restart>");
      },
    });
    expect(told).toEqual(["Half an ans", "<restart>", "A whole ", "answer."]);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatchObject({ attempt: 2, error: { kind: "network", retryable: true } });
    // The turn is the second attempt's alone: nothing of the broken one is spliced in.
    expect(turn).toMatchObject({ content: "A whole answer.", usage: { total_tokens: 6 } });
    expect(server.requests).toHaveLength(2);
  });

  it("restarts at most the client's retries, then fails with the last error", async () => {
    const { server, client } = await upstream.start((_req, res) => breakAfter(res, "again"));
    let restarts = 0;
    const failure = client.streamTurn(request, {
      onRestart: () => {
        restarts++;
      },
    });
    await expect(failure).rejects.toMatchObject({ kind: "network" });
    expect(restarts).toBe(2);
    expect(server.requests).toHaveLength(3);
  });

  it("does not restart without onRestart: the text may have reached a client", async () => {
    const { server, client } = await upstream.start((req, res) => {
      if (req.n === 1) breakAfter(res, "partial");
      else answer(res, "never read");
    });
    await expect(client.streamTurn(request, { onText: () => {} })).rejects.toBeInstanceOf(UpstreamError);
    expect(server.requests).toHaveLength(1);
  });

  it("does not restart on a failure that is not retryable (an error chunk mid-stream)", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("Hi"));
      sendEvent(res, {
        error: { code: 502, message: "Provider returned error" },
        choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }],
      });
      res.end();
    });
    let restarts = 0;
    await expect(
      client.streamTurn(request, {
        onRestart: () => {
          restarts++;
        },
      }),
    ).rejects.toMatchObject({ status: 502, retryable: false });
    expect(restarts).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it("an abort stops the call: no restart", async () => {
    const { server, client } = await upstream.start((_req, res) => {
      startSse(res);
      sendEvent(res, textChunk("slow"));
    });
    const abort = new AbortController();
    let restarts = 0;
    const failure = client.streamTurn(request, {
      signal: abort.signal,
      onText: () => abort.abort(),
      onRestart: () => {
        restarts++;
      },
    });
    await expect(failure).rejects.toMatchObject({ kind: "aborted" });
    expect(restarts).toBe(0);
    expect(server.requests).toHaveLength(1);
  });
});

describe("ProviderRouter.streamTurn", () => {
  const closables: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const c of closables.splice(0).reverse()) await c.close();
  });

  it("streams through the provider of the model's route, restarts included", async () => {
    const server = await startScriptedServer((req, res) => {
      if (req.n === 1) breakAfter(res, "Broken");
      else answer(res, "Routed ", "answer.");
    });
    closables.push(server);
    const router = new ProviderRouter({
      config: {
        providers: {
          local: { name: "local", baseUrl: server.baseUrl, headers: {}, stripPrefix: "local/" },
        },
        routes: [{ match: "local/*", provider: "local" }],
      },
      defaults: { maxRetries: 1, retryBaseMs: 1 },
    });
    closables.push(router);
    const told: string[] = [];
    const turn = await router.streamTurn(
      { ...request, model: "local/llama3" },
      { onText: (text) => told.push(text), onRestart: () => told.push("<restart>") },
    );
    expect(told).toEqual(["Broken", "<restart>", "Routed ", "answer."]);
    expect(turn.content).toBe("Routed answer.");
    expect(server.requests.map((r) => (r.json as { model: string; stream: boolean }).model)).toEqual([
      "llama3",
      "llama3",
    ]);
    expect(server.requests.every((r) => (r.json as { stream: boolean }).stream)).toBe(true);
  });
});
