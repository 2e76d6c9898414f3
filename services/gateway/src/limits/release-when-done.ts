import type { FusionSlot } from "@fusion/runtime";

/** The same response whose body calls `slot.release()` once it ends, fails or is cancelled. */
export function releaseWhenDone(res: Response, slot: FusionSlot): Response {
  if (!res.body) {
    slot.release();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          slot.release();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        slot.release();
        controller.error(err);
      }
    },
    cancel(reason) {
      slot.release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
