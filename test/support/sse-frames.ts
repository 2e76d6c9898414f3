/** One thing a Server-Sent Events stream delivered, with the time (performance.now()) it arrived. */
export type SseItem =
  | { kind: "comment"; text: string; at: number }
  | { kind: "data"; data: string; at: number };

/**
 * Reads an SSE body as it arrives, following the WHATWG parsing rules a browser's EventSource uses:
 * CRLF, CR or LF line ends, `:` comment lines, `data:` with one optional space, several `data` lines
 * joined with "\n", an event dispatched at a blank line. Written by hand on purpose: it is an
 * independent reader of what the gateway sends, not the parser the gateway itself relies on.
 */
export async function readSseItems(res: Response): Promise<SseItem[]> {
  if (!res.body) throw new Error("response has no body");
  const items: SseItem[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  const line = (text: string, at: number) => {
    if (text === "") {
      if (data.length) items.push({ kind: "data", data: data.join("\n"), at });
      data = [];
      return;
    }
    if (text.startsWith(":")) {
      items.push({ kind: "comment", text: text.slice(1), at });
      return;
    }
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
  };
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    const at = performance.now();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone CR at the end may be the first half of a CRLF: wait for more.
      if (!match || (match[0] === "\r" && match.index === buffer.length - 1 && !done)) break;
      line(buffer.slice(0, match.index), at);
      buffer = buffer.slice(match.index + match[0].length);
    }
    if (done) break;
  }
  return items;
}
