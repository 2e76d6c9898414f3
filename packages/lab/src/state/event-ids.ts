/**
 * SSE event ids are Redis Stream entry ids, `<ms>-<seq>`: the ms part is the server's time of the event
 * (the timeline's axis), and the ids are ordered (what makes a resume skip what it already applied).
 */
const STREAM_ID = /^(\d+)-(\d+)$/;

/** The server time (ms) of an event id, or undefined when it is not a stream entry id. */
export function msOfEventId(id: string | undefined): number | undefined {
  const match = id ? STREAM_ID.exec(id) : null;
  return match ? Number(match[1]) : undefined;
}

/** Orders two stream entry ids ("ms-seq"); compares the parts as numbers written in decimal. */
export function compareEventIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const byLength = (x: string, y: string) =>
    x.length === y.length ? (x < y ? -1 : x > y ? 1 : 0) : x.length - y.length;
  return byLength(am, bm) || byLength(as, bs);
}
