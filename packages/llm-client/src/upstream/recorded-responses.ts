import { readRecording } from "@fusion/simulator/test-support";
import type { ScriptedHandler } from "@fusion/testing";
import type { AssistantTurn } from "@fusion/wire";
import type { UpstreamClient } from "./client.ts";

/** A `.json` recording's body, parsed. */
export function recordingJson(file: string): unknown {
  return JSON.parse(readRecording(file).text);
}

/**
 * Answers the n-th request with the n-th recording (the last one again after that), byte for byte, with
 * its recorded status and content type (see readRecording).
 */
export function replayRecordings(...files: string[]): ScriptedHandler {
  return (req, res) => {
    const file = files[Math.min(req.n, files.length) - 1];
    if (file === undefined) throw new Error("replayRecordings needs a recording");
    const recording = readRecording(file);
    res.writeHead(recording.status, { "content-type": recording.contentType });
    res.end(recording.bytes);
  };
}

/** The `data:` payloads of a recorded stream, parsed, without `[DONE]`. */
export function recordedChunks(file: string): Array<Record<string, unknown>> {
  return readRecording(file)
    .text.split(/\r?\n/)
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice("data: ".length)) as Record<string, unknown>);
}

/**
 * A streamed turn of a client started on `file` (by `start`, e.g. `useScriptedUpstream().start`),
 * with the text and the reasoning its onText and onReasoning callbacks received.
 */
export async function streamRecorded(
  start: (handler: ScriptedHandler) => Promise<{ client: UpstreamClient }>,
  file: string,
  request: Record<string, unknown>,
): Promise<{ turn: AssistantTurn; seen: { text: string; reasoning: string } }> {
  const { client } = await start(replayRecordings(file));
  const seen = { text: "", reasoning: "" };
  const turn = await client.streamTurn(request, {
    onText: (text) => {
      seen.text += text;
    },
    onReasoning: (text) => {
      seen.reasoning += text;
    },
  });
  return { turn, seen };
}
