/** One SSE frame as a test sees it. */
export interface Frame {
  id?: string;
  event?: string;
  comment?: string;
  data?: string;
}

/** Reads SSE frames from a response body as they arrive; `onFrame` returning true stops (cutting the stream). */
export async function readFrames(
  res: Response,
  onFrame?: (frames: Frame[]) => boolean | undefined,
): Promise<Frame[]> {
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  const frames: Frame[] = [];
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame: Frame = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) frame.comment = line.slice(1).trim();
        else if (line.startsWith("id: ")) frame.id = line.slice(4);
        else if (line.startsWith("event: ")) frame.event = line.slice(7);
        else if (line.startsWith("data: ")) frame.data = line.slice(6);
      }
      frames.push(frame);
      if (onFrame?.(frames)) {
        await reader.cancel();
        return frames;
      }
      end = buffer.indexOf("\n\n");
    }
  }
  return frames;
}

type Chunk = {
  choices: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
  error?: { message: string; status?: number };
};

/** The chunk payloads of a stream (not progress events, not [DONE]). */
export const chunksOf = (frames: Frame[]): Chunk[] =>
  frames
    .filter((f) => f.data && f.data !== "[DONE]" && !f.event)
    .map((f) => JSON.parse(f.data as string) as Chunk);

export const contentOf = (frames: Frame[]) =>
  chunksOf(frames)
    .map((c) => c.choices[0]?.delta?.content ?? "")
    .join("");
