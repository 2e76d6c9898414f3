import { readRecording } from "./recordings.ts";

/** A 400 from the simulator itself: the test scripted a replay that cannot answer this request. */
function scriptingError(message: string): Response {
  return new Response(JSON.stringify({ error: { code: 400, type: "simulator_replay_error", message } }), {
    status: 400,
    headers: { "content-type": "application/json", "x-simulator-error": "replay" },
  });
}

/** Which recording of a `replay` list answers the model's n-th replayed request: the last one repeats. */
export function replayFile(replay: readonly string[], index: number): string | undefined {
  return replay[Math.min(index, replay.length - 1)];
}

/**
 * The recording served byte for byte, with its recorded status and its content type
 * (`text/event-stream` for `.sse`, `application/json` for `.json`). A streaming request given a JSON
 * recording, or a non-streaming one given an SSE recording, is a scripting error answered 400 naming
 * the mismatch, unless the recording is an error body (status >= 400), which a provider sends either way.
 */
export function replayResponse(file: string, model: string, stream: boolean): Response {
  let recording: ReturnType<typeof readRecording>;
  try {
    recording = readRecording(file);
  } catch (err) {
    return scriptingError(`replay of ${model}: ${(err as Error).message}`);
  }
  const isSse = recording.format === "sse";
  if (recording.status < 400 && isSse !== stream) {
    const asked = stream ? 'a streaming request ("stream": true)' : "a non-streaming request";
    const given = isSse ? "an SSE stream (.sse)" : "a JSON body (.json)";
    const wanted = stream ? ".sse" : ".json";
    return scriptingError(
      `replay mismatch for ${model}: ${asked} was given ${file}, which is ${given}; script a ${wanted} recording for this call`,
    );
  }
  return new Response(recording.bytes, {
    status: recording.status,
    headers: { "content-type": recording.contentType },
  });
}
