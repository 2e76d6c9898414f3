import type { SseFrame } from "@fusion/testing";

type Chunk = {
  choices: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
  error?: { message: string; status?: number };
};

/** Every data payload of a stream in order (progress events too), JSON-parsed; `[DONE]` stays a string. */
export const dataOf = (frames: SseFrame[]): unknown[] =>
  frames.flatMap((f) => {
    if (f.data === undefined) return [];
    return [f.data === "[DONE]" ? "[DONE]" : (JSON.parse(f.data) as unknown)];
  });

/** The chunk payloads of a stream (not progress events, not [DONE]). */
export const chunksOf = (frames: SseFrame[]): Chunk[] =>
  frames
    .filter((f) => f.data && f.data !== "[DONE]" && !f.event)
    .map((f) => JSON.parse(f.data as string) as Chunk);

export const contentOf = (frames: SseFrame[]) =>
  chunksOf(frames)
    .map((c) => c.choices[0]?.delta?.content ?? "")
    .join("");
