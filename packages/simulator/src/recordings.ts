import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * Real provider responses under `packages/simulator/recordings/`, each listed with its provenance in
 * `recordings/sources.json`. They are served byte for byte (replay mode) and read by unit tests; a
 * recording is never edited: its bytes must match the sha256 its entry records.
 */
export const recordingsDir = new URL("../recordings/", import.meta.url);

/** One entry of `recordings/sources.json`: where a recording comes from and what it shows. */
export const recordingSourceSchema = z.looseObject({
  /** Path under `recordings/`, e.g. `deepseek/reasoner-tool-call.json`. */
  file: z.string().regex(/^[a-z0-9-]+\/[A-Za-z0-9._-]+\.(sse|json)$/),
  provider: z.string().min(1),
  model: z.string().nullable(),
  kind: z.enum(["stream", "json", "error"]),
  /** The HTTP status the provider answered with; null when the source did not keep it (served as 200). */
  http_status: z.number().int().min(100).max(599).nullable(),
  demonstrates: z.array(z.string()).min(1),
  repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  path: z.string().min(1),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  transformation: z.string().min(1),
  notes: z.string(),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type RecordingSource = z.infer<typeof recordingSourceSchema>;

/** A recording as it is served: its exact bytes, status and content type, and its provenance. */
export interface Recording {
  file: string;
  /** The body, byte for byte. */
  bytes: Uint8Array;
  /** The body decoded as UTF-8. */
  text: string;
  /** `http_status` of its entry, 200 when the source did not keep one. */
  status: number;
  /** `text/event-stream` for `.sse` files, `application/json` for `.json` files. */
  contentType: string;
  /** Whether the body is an SSE stream (`.sse`) or one JSON document (`.json`). */
  format: "sse" | "json";
  source: RecordingSource;
}

let sources: Map<string, RecordingSource> | undefined;
const cache = new Map<string, Recording>();

/** Every entry of `recordings/sources.json`, by file. */
export function recordingSources(): ReadonlyMap<string, RecordingSource> {
  if (!sources) {
    const raw: unknown = JSON.parse(readFileSync(new URL("sources.json", recordingsDir), "utf8"));
    const entries = z.array(recordingSourceSchema).parse(raw);
    sources = new Map(entries.map((entry) => [entry.file, entry]));
  }
  return sources;
}

/** The sha256 of some bytes, in hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Reads a recording by its path under `recordings/`. Throws when it is not listed in `sources.json`
 * or its bytes no longer match the entry's sha256 (a recording must not be edited).
 */
export function readRecording(file: string): Recording {
  const cached = cache.get(file);
  if (cached) return cached;
  const source = recordingSources().get(file);
  if (!source)
    throw new Error(`recording ${file} is not listed in packages/simulator/recordings/sources.json`);
  const bytes = new Uint8Array(readFileSync(new URL(file, recordingsDir)));
  if (sha256Hex(bytes) !== source.sha256) {
    throw new Error(
      `recording ${file} does not match the sha256 in sources.json: recordings must not be edited`,
    );
  }
  const format = file.endsWith(".sse") ? "sse" : "json";
  const recording: Recording = {
    file,
    bytes,
    text: new TextDecoder().decode(bytes),
    status: source.http_status ?? 200,
    contentType: format === "sse" ? "text/event-stream" : "application/json",
    format,
    source,
  };
  cache.set(file, recording);
  return recording;
}
