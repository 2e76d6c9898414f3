import { readRecording } from "@fusion/simulator/test-support";
import type { ScriptedHandler } from "@fusion/testing";

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
