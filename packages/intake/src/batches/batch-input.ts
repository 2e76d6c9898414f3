/** One request line of a batch input file, as the batch runs it. */
export interface InputLine {
  /** 0-based position among the file's request lines (blank lines are not counted). */
  index: number;
  customId: string;
  /** The chat-completions request. */
  body: Record<string, unknown>;
  /** Where the line's bytes are in the file (inclusive, for GETRANGE). */
  start: number;
  end: number;
}

/** A problem with the input file, as OpenAI reports it in `errors.data[]` (`line` is 1-based). */
export interface BatchInputError {
  code: string;
  message: string;
  line: number | null;
  param?: string | null;
}

/** The one endpoint batches run. */
export const BATCH_ENDPOINT = "/v1/chat/completions";

/** At most this many problems are reported for one file. */
const MAX_ERRORS = 100;

export interface ParsedBatchInput {
  lines: InputLine[];
  errors: BatchInputError[];
}

/** The request lines of a JSONL buffer with their byte spans; blank lines (and a final newline) are skipped. */
export function splitJsonl(
  content: Uint8Array,
): Array<{ text: string; start: number; end: number; lineNo: number }> {
  const out: Array<{ text: string; start: number; end: number; lineNo: number }> = [];
  const decoder = new TextDecoder();
  let start = 0;
  let lineNo = 0;
  for (let i = 0; i <= content.length; i++) {
    if (i < content.length && content[i] !== 0x0a) continue;
    lineNo++;
    let end = i;
    if (end > start && content[end - 1] === 0x0d) end--;
    const text = decoder.decode(content.subarray(start, end));
    if (text.trim() !== "") out.push({ text, start, end: end - 1, lineNo });
    start = i + 1;
  }
  return out;
}

/** How many request lines a JSONL buffer holds (non-blank lines), without parsing them. */
export function countJsonlLines(content: Uint8Array): number {
  return splitJsonl(content).length;
}

/**
 * Parses and checks a batch input file: each line a JSON object with a unique non-empty `custom_id`,
 * `method: "POST"`, `url: "/v1/chat/completions"` and an object `body` that `checkBody` accepts
 * (it returns the problem, or undefined). Problems name their 1-based line, as OpenAI's do.
 */
export function parseBatchInput(
  content: Uint8Array,
  checkBody: (body: Record<string, unknown>) => string | undefined,
): ParsedBatchInput {
  const lines: InputLine[] = [];
  const errors: BatchInputError[] = [];
  const seen = new Set<string>();
  const fail = (code: string, message: string, line: number, param: string | null = null) => {
    if (errors.length < MAX_ERRORS) errors.push({ code, message, line, param });
  };
  const raw = splitJsonl(content);
  if (raw.length === 0) fail("empty_file", "the input file has no request lines", 0);
  for (const { text, start, end, lineNo } of raw) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      fail("invalid_json_line", "this line is not valid JSON", lineNo);
      continue;
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      fail("invalid_json_line", "this line is not a JSON object", lineNo);
      continue;
    }
    const line = json as Record<string, unknown>;
    const customId = line.custom_id;
    if (typeof customId !== "string" || customId === "") {
      fail("missing_required_parameter", "custom_id must be a non-empty string", lineNo, "custom_id");
      continue;
    }
    if (seen.has(customId)) {
      fail("duplicate_custom_id", `custom_id "${customId}" is used by an earlier line`, lineNo, "custom_id");
      continue;
    }
    seen.add(customId);
    if (line.method !== "POST") {
      fail("invalid_method", 'method must be "POST"', lineNo, "method");
      continue;
    }
    if (line.url !== BATCH_ENDPOINT) {
      fail("invalid_url", `url must be "${BATCH_ENDPOINT}", the batch's endpoint`, lineNo, "url");
      continue;
    }
    const body = line.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      fail("invalid_request", "body must be a JSON object", lineNo, "body");
      continue;
    }
    const problem = checkBody(body as Record<string, unknown>);
    if (problem !== undefined) {
      fail("invalid_request", problem, lineNo, "body");
      continue;
    }
    lines.push({ index: lines.length, customId, body: body as Record<string, unknown>, start, end });
  }
  return { lines, errors };
}

/**
 * A line's body as it is run: answered as one JSON completion, so `stream` and `stream_options` are
 * dropped (a batch has no reader to stream to).
 */
export function lineBody(body: Record<string, unknown>): Record<string, unknown> {
  const { stream: _stream, stream_options: _options, ...rest } = body;
  return rest;
}
