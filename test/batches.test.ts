import { Redis } from "ioredis";
import OpenAI, { NotFoundError, toFile } from "openai";
import { describe, expect, it } from "vitest";
import { uniqueModel, useStack } from "./support/fixture.ts";

/**
 * The OpenAI Batch API on the real services, driven by the official SDK: files and batches, fusion
 * lines (alias, plugin, server tool) and plain lines, cancel, pagination, owners, limits, files listed
 * and deleted, a batch's lines run on at most BATCH_LANES lanes, a batch that survives a judge-worker
 * SIGKILL and a gateway restart with every line answered once, and batches that expire at their
 * window's end (short test windows) with or without a judge worker.
 */

const OTHER_KEY = "sk-other-batch-tenant-0123456789";
const LANES = 4;
const e2e = useStack({
  extraApiKeys: [OTHER_KEY],
  env: {
    BATCH_MAX_FILE_BYTES: "65536",
    WORKER_STALLED_INTERVAL_MS: "1000",
    // Windows of a few seconds ("<n>s"), for the batches that expire here.
    BATCH_TEST_COMPLETION_WINDOWS: "true",
    // Fewer lanes than most batches here have lines: their lanes are handed on, across crashes too.
    BATCH_LANES: String(LANES),
  },
});

type Line = { custom_id: string; body: Record<string, unknown> };
const ask = (text: string) => [{ role: "user", content: text }];
const aliasBody = (panel: string, writer: string, text: string) => ({
  model: "openrouter/fusion",
  messages: ask(text),
  plugins: [{ id: "fusion", analysis_models: [panel], model: writer, tools: [] }],
});

async function upload(lines: Line[], client = e2e.client) {
  const text = lines
    .map((l) => JSON.stringify({ ...l, method: "POST", url: "/v1/chat/completions" }))
    .join("\n");
  return client.files.create({ file: await toFile(Buffer.from(text), "batch.jsonl"), purpose: "batch" });
}

/** A batch over an uploaded file; `window` other than 24h is a test window (the SDK's type knows only 24h). */
function startBatch(fileId: string, window = "24h") {
  return e2e.client.batches.create({
    input_file_id: fileId,
    endpoint: "/v1/chat/completions",
    completion_window: window as "24h",
    metadata: { suite: "batches" },
  });
}

async function runBatch(lines: Line[], window?: string) {
  return startBatch((await upload(lines)).id, window);
}

async function until(batchId: string, statuses: string[], ms = 60_000, client = e2e.client) {
  const deadline = Date.now() + ms;
  for (;;) {
    const batch = await client.batches.retrieve(batchId);
    if (statuses.includes(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch still ${batch.status}: ${JSON.stringify(batch)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type ResultLine = {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
};
async function linesOf(fileId: string | null | undefined): Promise<ResultLine[]> {
  if (!fileId) return [];
  const text = await (await e2e.client.files.content(fileId)).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ResultLine);
}

describe("the Batch API", () => {
  it("runs fusion lines of every entry point and plain lines, and answers each in OpenAI's format", async () => {
    const panel = uniqueModel("b-panel");
    const writer = uniqueModel("b-writer");
    const plain = uniqueModel("b-plain");
    const refused = uniqueModel("b-refused");
    await e2e.control.script(writer, { fusion: "call" });
    await e2e.control.script(refused, { alwaysFail: { status: 400, message: "bad input" } });
    const lines: Line[] = [
      { custom_id: "alias", body: aliasBody(panel, writer, "alias line") },
      {
        custom_id: "plugin",
        body: {
          model: writer,
          messages: ask("plugin line"),
          plugins: [{ id: "fusion", analysis_models: [panel], tools: [] }],
        },
      },
      {
        custom_id: "tool",
        body: {
          model: writer,
          messages: ask("tool line"),
          tools: [{ type: "openrouter:fusion", parameters: { analysis_models: [panel], tools: [] } }],
        },
      },
      { custom_id: "plain", body: { model: plain, messages: ask("plain line"), stream: true } },
      { custom_id: "refused", body: { model: refused, messages: ask("refused line") } },
    ];
    const created = await runBatch(lines);
    expect(created).toMatchObject({
      object: "batch",
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      status: "in_progress",
      metadata: { suite: "batches" },
      request_counts: { total: 5, completed: 0, failed: 0 },
    });
    expect(created.id).toMatch(/^batch_/);
    const done = await until(created.id, ["completed"]);
    expect(done.request_counts).toEqual({ total: 5, completed: 4, failed: 1 });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);

    const output = await linesOf(done.output_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(["alias", "plain", "plugin", "tool"]);
    for (const line of output) {
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      expect(line.response?.request_id).toBe(line.id);
      expect(line.response?.body).toMatchObject({ object: "chat.completion", choices: [expect.anything()] });
    }
    const errors = await linesOf(done.error_file_id);
    expect(errors).toEqual([
      {
        id: expect.stringMatching(/^batch_req_/),
        custom_id: "refused",
        response: {
          status_code: 400,
          request_id: expect.any(String),
          body: { error: expect.objectContaining({ code: 400 }) },
        },
        error: null,
      },
    ]);
    const outputFile = await e2e.client.files.retrieve(done.output_file_id ?? "");
    expect(outputFile).toMatchObject({ object: "file", purpose: "batch_output", status: "processed" });

    // Another key sees none of it.
    const other = new OpenAI({ baseURL: `${e2e.stack.baseUrl}/v1`, apiKey: OTHER_KEY, maxRetries: 0 });
    await expect(other.batches.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.files.content(done.output_file_id ?? "")).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.batches.cancel(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("fails a batch whose file has bad lines, with OpenAI's errors, and refuses a file over the byte limit", async () => {
    const batch = await runBatch([
      { custom_id: "x", body: { model: uniqueModel("v"), messages: ask("ok") } },
      { custom_id: "x", body: { model: uniqueModel("v"), messages: ask("twice") } },
      { custom_id: "y", body: { messages: "not messages" } },
    ]);
    expect(batch.status).toBe("failed");
    expect(batch.errors?.data?.map((e) => [e.code, e.line])).toEqual([
      ["duplicate_custom_id", 2],
      ["invalid_request", 3],
    ]);
    const big = Array.from({ length: 360 }, (_, i) => ({
      custom_id: `l${i}`,
      body: { model: "m", messages: ask("x".repeat(80)) },
    }));
    await expect(upload(big)).rejects.toMatchObject({ status: 413 });
  });

  it("cancels a running batch: running fusions end, unstarted lines never run, every line is in the error file", async () => {
    const panel = uniqueModel("c-panel");
    const writer = uniqueModel("c-writer");
    await e2e.control.script(panel, { latencyMs: 20_000 });
    const lines = Array.from({ length: 4 }, (_, i) => ({
      custom_id: `c${i}`,
      body: aliasBody(panel, writer, `cancel line ${i}`),
    }));
    const batch = await runBatch(lines);
    const deadline = Date.now() + 15_000;
    while ((await e2e.control.requests({ model: panel })).length < 4 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const cancelling = await e2e.client.batches.cancel(batch.id);
    expect(cancelling.status).toBe("cancelling");
    expect(cancelling.cancelling_at).toEqual(expect.any(Number));
    const cancelled = await until(batch.id, ["cancelled"], 30_000);
    expect(cancelled.request_counts).toEqual({ total: 4, completed: 0, failed: 4 });
    const errors = await linesOf(cancelled.error_file_id);
    expect(errors.map((l) => l.custom_id).sort()).toEqual(["c0", "c1", "c2", "c3"]);
    for (const line of errors) expect(line.response?.status_code ?? line.error?.code).toBeDefined();
    expect(await e2e.control.requests({ model: writer })).toHaveLength(0);
  });

  it("lists the key's batches newest first, a page at a time", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.unshift((await runBatch([{ custom_id: "p", body: { messages: "bad" } }])).id);
    const first = await e2e.client.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual(ids.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = await first.getNextPage();
    expect(second.data[0]?.id).toBe(ids[2]);
    const res = await fetch(`${e2e.stack.baseUrl}/v1/batches?limit=2`, {
      headers: { authorization: `Bearer ${e2e.stack.apiKey}` },
    });
    expect(await res.json()).toMatchObject({
      object: "list",
      first_id: ids[0],
      last_id: ids[1],
      has_more: true,
    });
  });

  it("runs at most BATCH_LANES lines of a batch at once, each answered line handing its lane on", async () => {
    const panel = uniqueModel("l-panel");
    const writer = uniqueModel("l-writer");
    await e2e.control.script(panel, { latencyMs: 600 });
    const lines = Array.from({ length: 10 }, (_, i) => ({
      custom_id: `l${i}`,
      body: aliasBody(panel, writer, `lane line l${i}`),
    }));
    const batch = await runBatch(lines);
    // The batch's running lines (started, not answered), sampled until the batch ends.
    const redis = new Redis(e2e.redis.url, { maxRetriesPerRequest: null });
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await redis.scard(`batch:{${batch.id}}:running`));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const done = await until(batch.id, ["completed"], 30_000);
      expect(done.request_counts).toEqual({ total: 10, completed: 10, failed: 0 });
    } finally {
      sampling = false;
      await sampler;
      redis.disconnect();
    }
    expect(most).toBe(LANES);
    for (const { custom_id } of lines) {
      const calls = (await e2e.control.requests({ model: panel })).filter((r) =>
        JSON.stringify(r.body).includes(`lane line ${custom_id}`),
      );
      expect(calls).toHaveLength(1);
    }
  });

  it("survives a judge-worker SIGKILL and a gateway restart with every line answered once", async () => {
    const panel = uniqueModel("k-panel");
    const writer = uniqueModel("k-writer");
    await e2e.control.script(panel, { latencyMs: 1500 });
    const lines = Array.from({ length: 6 }, (_, i) => ({
      custom_id: `k${i}`,
      body: aliasBody(panel, writer, `crash line k${i}`),
    }));
    const batch = await runBatch(lines);
    const deadline = Date.now() + 15_000;
    while ((await e2e.control.requests({ model: panel })).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    const { stack } = e2e;
    const judge = stack.services.find((s) => s.name === "judge-worker" && s.child.exitCode === null);
    const gateway = stack.services.find((s) => s.name === "gateway" && s.child.exitCode === null);
    if (!judge || !gateway?.port) throw new Error("no judge worker or gateway to stop");
    await stack.kill(judge, "SIGKILL");
    await stack.kill(gateway, "SIGTERM");
    stack.spawn("gateway", stack.services.length, gateway.port);
    stack.spawn("judge-worker", stack.services.length);
    await stack.waitReady(`http://127.0.0.1:${gateway.port}`);

    const done = await until(batch.id, ["completed"], 90_000);
    expect(done.request_counts).toEqual({ total: 6, completed: 6, failed: 0 });
    const output = await linesOf(done.output_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(lines.map((l) => l.custom_id).sort());
    const calls = async (model: string, id: string) =>
      (await e2e.control.requests({ model })).filter((r) =>
        JSON.stringify(r.body).includes(`crash line ${id}`),
      ).length;
    for (const { custom_id } of lines) {
      expect(await calls(panel, custom_id)).toBe(1);
      expect(await calls(writer, custom_id)).toBeGreaterThanOrEqual(1);
    }
  });
  it("lists the key's files a page at a time, and deletes one for its owner only", async () => {
    const line = [{ custom_id: "f", body: { model: uniqueModel("f"), messages: ask("file") } }];
    const first = await upload(line);
    const second = await upload(line);
    const page = await e2e.client.files.list({ limit: 1 });
    expect(page.data.map((f) => f.id)).toEqual([second.id]);
    expect(page.has_more).toBe(true);
    expect((await page.getNextPage()).data.map((f) => f.id)).toEqual([first.id]);
    const newest = (await e2e.client.files.list()).data.map((f) => f.id);
    const oldest = (await e2e.client.files.list({ order: "asc" })).data.map((f) => f.id);
    expect(oldest).toEqual([...newest].reverse());
    expect((await e2e.client.files.list({ purpose: "batch" })).data.map((f) => f.purpose)).toContain("batch");

    const other = new OpenAI({ baseURL: `${e2e.stack.baseUrl}/v1`, apiKey: OTHER_KEY, maxRetries: 0 });
    expect((await other.files.list()).data.map((f) => f.id)).not.toContain(first.id);
    await expect(other.files.delete(first.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await e2e.client.files.delete(first.id)).toEqual({ id: first.id, object: "file", deleted: true });
    await expect(e2e.client.files.retrieve(first.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(e2e.client.files.delete(first.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await e2e.client.files.list()).data.map((f) => f.id)).not.toContain(first.id);

    const auth = { authorization: `Bearer ${e2e.stack.apiKey}` };
    const base = `${e2e.stack.baseUrl}/api/v1/files`;
    const deleted = await fetch(`${base}/${second.id}`, { method: "DELETE", headers: auth });
    expect(await deleted.json()).toEqual({ id: second.id, object: "file", deleted: true });
    const bad = await fetch(`${base}?limit=0`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 400 } });
  });

  it("expires batches at their window's end, answered lines kept, with or without a judge worker", async () => {
    await expect(runBatch([{ custom_id: "w", body: { messages: "bad" } }], "1h")).rejects.toMatchObject({
      status: 400,
    });
    const panel = uniqueModel("x-panel");
    const plain = uniqueModel("x-plain");
    const unread = uniqueModel("x-unread");
    await e2e.control.script(panel, { latencyMs: 30_000 });
    // A batch whose plain line is answered and whose fusion line is still running at its window's end.
    const running = await runBatch(
      [
        { custom_id: "fast", body: { model: plain, messages: ask("fast line") } },
        { custom_id: "slow", body: aliasBody(panel, uniqueModel("x-writer"), "slow line") },
      ],
      "6s",
    );
    const deadline = Date.now() + 5_000;
    while (
      ((await e2e.client.batches.retrieve(running.id)).request_counts?.completed !== 1 ||
        (await e2e.control.requests({ model: panel })).length === 0) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));

    // Now no judge worker at all: a batch whose lines nobody picks up, over a file deleted at once.
    const { stack } = e2e;
    const judges = stack.services.filter(
      (s) => s.name === "judge-worker" && s.child.exitCode === null && s.child.signalCode === null,
    );
    if (judges.length === 0) throw new Error("no judge worker to stop");
    await Promise.all(judges.map((judge) => stack.kill(judge, "SIGKILL")));
    const input = await upload(
      ["u0", "u1"].map((id) => ({ custom_id: id, body: { model: unread, messages: ask(id) } })),
    );
    const stranded = await startBatch(input.id, "2s");
    expect(await e2e.client.files.delete(input.id)).toMatchObject({ deleted: true });

    const lapsed = await until(stranded.id, ["expired", "completed"], 20_000);
    expect(lapsed.status).toBe("expired");
    expect(lapsed.expired_at).toBeGreaterThanOrEqual(Number(lapsed.expires_at));
    expect(lapsed.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
    expect(lapsed.output_file_id).toBeNull();
    expect(
      (await linesOf(lapsed.error_file_id)).map((l) => [l.custom_id, l.response, l.error?.code]),
    ).toEqual([
      ["u0", null, "batch_expired"],
      ["u1", null, "batch_expired"],
    ]);

    const ended = await until(running.id, ["expired", "completed"], 20_000);
    expect(ended.status).toBe("expired");
    expect(ended.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    expect((await linesOf(ended.output_file_id)).map((l) => [l.custom_id, l.response?.status_code])).toEqual([
      ["fast", 200],
    ]);
    expect((await linesOf(ended.error_file_id)).map((l) => [l.custom_id, l.error?.code])).toEqual([
      ["slow", "batch_expired"],
    ]);
    const outputs = (await e2e.client.files.list({ purpose: "batch_output" })).data.map((f) => f.id);
    expect(outputs).toEqual(expect.arrayContaining([ended.output_file_id, ended.error_file_id]));
    expect(outputs).not.toContain(input.id);
    expect(await e2e.control.requests({ model: unread })).toHaveLength(0);
    stack.spawn("judge-worker", stack.services.length);
  });
});
