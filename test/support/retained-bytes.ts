import type { Stack } from "@fusion/testing";

/**
 * What gateway `index` of a stack started with `NODE_OPTIONS=--inspect=127.0.0.1:0` retains (JS heap and
 * array buffers) after a full garbage collection, read over its inspector: unlike RSS, this does not
 * count garbage the gateway has not collected yet.
 */
export async function retainedBytes(stack: Stack, index: number): Promise<number> {
  const line = stack.logs
    .split("\n")
    .find((l) => l.startsWith(`gateway#${index} Debugger listening on ws://`));
  const url = /ws:\/\/\S+/.exec(line ?? "")?.[0];
  if (!url) throw new Error(`no inspector URL for gateway#${index}`);
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const replies = new Map<number, (value: unknown) => void>();
  ws.onmessage = (m) => {
    const reply = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (reply.id !== undefined) replies.get(reply.id)?.(reply.result);
  };
  let seq = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++seq;
      replies.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    const result = (await call("Runtime.evaluate", {
      expression: "(() => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; })()",
      returnByValue: true,
    })) as { result: { value: number } };
    return result.result.value;
  } finally {
    ws.close();
  }
}
