import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readRecording, recordingSourceSchema, recordingsDir, sha256Hex } from "./recordings.ts";

const dir = fileURLToPath(recordingsDir);
/** Every file under recordings/ but sources.json, as `provider/name`. */
const files = readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) =>
    `${entry.parentPath.slice(dir.length).replace(/\/+$/, "")}/${entry.name}`.replace(/^\//, ""),
  )
  .filter((file) => file !== "sources.json")
  .sort();
const entries: unknown[] = JSON.parse(readFileSync(new URL("sources.json", recordingsDir), "utf8"));
const listed = entries.map((entry) => (entry as { file?: unknown }).file);
/** The raw entry of a file, so that one malformed entry fails only its own checks. */
const entryOf = (file: string) =>
  entries.find((entry) => (entry as { file?: unknown }).file === file) as
    | { sha256?: unknown; bytes?: unknown; kind?: unknown }
    | undefined;

// A recording may never change without its provenance: these fail when a file is added, edited or
// removed without the matching entry in sources.json.
describe("recordings provenance", () => {
  it("lists every recording in sources.json exactly once, and nothing else", () => {
    expect(files.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual(files);
    expect(new Set(listed).size).toBe(listed.length);
  });

  it.each(entries.map((entry, i) => [String(listed[i]), entry] as const))(
    "%s: names its repository, path, commit and transformation",
    (_file, entry) => {
      const parsed = recordingSourceSchema.safeParse(entry);
      expect(parsed.error?.issues ?? []).toEqual([]);
    },
  );

  it.each(files)("%s: its bytes match the sha256 and size of its entry", (file) => {
    const bytes = readFileSync(new URL(file, recordingsDir));
    const entry = entryOf(file);
    expect({ sha256: sha256Hex(bytes), bytes: bytes.length }).toEqual({
      sha256: entry?.sha256,
      bytes: entry?.bytes,
    });
  });

  it.each(files)("%s: its extension fits its kind", (file) => {
    const kind = entryOf(file)?.kind;
    expect(file.endsWith(".sse") ? ["stream", "error"] : ["json", "error"]).toContain(kind);
  });
});

describe("readRecording", () => {
  it("gives the bytes, status, content type and provenance of a recording", () => {
    const rec = readRecording("openrouter/error-429-upstream-rate-limited.json");
    expect(rec.status).toBe(429);
    expect(rec.contentType).toBe("application/json");
    expect(rec.format).toBe("json");
    expect(rec.source.repository).toBe("pydantic/pydantic-ai");
    expect(rec.bytes).toEqual(
      new Uint8Array(readFileSync(new URL("openrouter/error-429-upstream-rate-limited.json", recordingsDir))),
    );
    expect(JSON.parse(rec.text)).toMatchObject({ error: { code: 429 } });
  });

  it("serves a recording whose source kept no status as 200, and an .sse one as an event stream", () => {
    const rec = readRecording("mistral/tool-call-no-index-no-type-stream.sse");
    expect(rec.source.http_status).toBeNull();
    expect(rec.status).toBe(200);
    expect(rec.contentType).toBe("text/event-stream");
    expect(rec.format).toBe("sse");
  });

  it("refuses a file that sources.json does not list", () => {
    expect(() => readRecording("openai/not-recorded.json")).toThrow(/not listed/);
    expect(() => readRecording("../package.json")).toThrow(/not listed/);
  });
});
