/** One Server-Sent Events frame: what the lines before a blank line said. */
export interface SseFrame {
  /** The `id` field, when the frame had one. */
  id?: string;
  /** The `event` field, when the frame had one. */
  event?: string;
  /** Its `data` lines joined with "\n"; absent when it had none. */
  data?: string;
  /** Its comment lines: the text after the `:` as sent (a leading space kept), joined with "\n". */
  comment?: string;
  /** performance.now() when the blank line that ends the frame arrived. */
  at: number;
}

/** Told the frames so far after each one; returning true stops reading (and cancels the body). */
export type SseStop = (frames: SseFrame[]) => boolean | undefined;

/** Builds frames from lines, following the WHATWG field rules an EventSource uses. */
function frameBuilder(frames: SseFrame[]): (line: string, at: number) => SseFrame | undefined {
  let fields: Omit<SseFrame, "at"> = {};
  let seen = false;
  let data: string[] = [];
  let comments: string[] = [];
  return (line, at) => {
    if (line === "") {
      if (!seen) return undefined;
      const frame: SseFrame = { ...fields, at };
      if (data.length) frame.data = data.join("\n");
      if (comments.length) frame.comment = comments.join("\n");
      frames.push(frame);
      fields = {};
      data = [];
      comments = [];
      seen = false;
      return frame;
    }
    seen = true;
    if (line.startsWith(":")) {
      comments.push(line.slice(1));
      return undefined;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "id" || field === "event") fields[field] = value;
    return undefined;
  };
}

/**
 * Reads an SSE body as it arrives into its frames: CRLF, CR or LF line ends, `:` comment lines,
 * `field: value` with one optional space, several `data` lines joined with "\n", a frame ended by a
 * blank line; an unfinished frame at the end of the body is dropped. Written by hand on purpose: an
 * independent reader of what a server sends, not the parser the code under test relies on.
 */
export async function readSseFrames(
  source: Response | ReadableStream<Uint8Array>,
  stop?: SseStop,
): Promise<SseFrame[]> {
  // Duck-typed: a Response of another fetch implementation (undici's own) is no `instanceof Response`.
  const body = "getReader" in source ? source : source.body;
  if (!body) throw new Error("response has no body");
  const frames: SseFrame[] = [];
  const push = frameBuilder(frames);
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    const at = performance.now();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone CR at the end may be the first half of a CRLF: wait for more.
      if (!match || (match[0] === "\r" && match.index === buffer.length - 1 && !done)) break;
      const frame = push(buffer.slice(0, match.index), at);
      buffer = buffer.slice(match.index + match[0].length);
      if (frame && stop?.(frames)) {
        await reader.cancel();
        return frames;
      }
    }
    if (done) return frames;
  }
}
