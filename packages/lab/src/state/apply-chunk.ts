import { fusionResultOf, usageOf } from "./fusion-result.ts";
import { isObject, type JsonObject, objects, str } from "./json-fields.ts";
import { type Citation, emptyStage, type StageView, type ViewState } from "./view-state.ts";

/** `url_citation` annotations (OpenAI's nested shape, or the fields flat on the annotation). */
function citationsOf(annotations: unknown): Citation[] {
  return objects(annotations).flatMap((a) => {
    if (a.type !== undefined && a.type !== "url_citation") return [];
    const fields = isObject(a.url_citation) ? a.url_citation : a;
    const url = str(fields.url);
    return url ? [{ url, title: str(fields.title) ?? url }] : [];
  });
}

function mergeCitations(known: Citation[], more: Citation[]): Citation[] {
  const seen = new Set(known.map((c) => c.url));
  return [...known, ...more.filter((c) => !seen.has(c.url) && seen.add(c.url))];
}

function writerWriting(writer: StageView | null, model: string | undefined, at: number): StageView {
  const stage = writer ?? emptyStage(model ?? "writer");
  return stage.phase === "waiting" ? { ...stage, phase: "running", startMs: stage.startMs ?? at } : stage;
}

/** Ends the run's stages that the stream's end leaves open: the writer, when its `finished` never came. */
function writerEnded(writer: StageView | null, at: number): StageView | null {
  if (!writer || writer.phase === "done" || writer.phase === "failed") return writer;
  return { ...writer, phase: "done", endMs: writer.endMs ?? at };
}

/** The error of an error chunk: OpenRouter's `{error: {code, status, message}}`. */
function errorMessage(error: unknown): string {
  if (isObject(error)) return str(error.message) ?? JSON.stringify(error);
  return str(error) ?? "the fusion failed";
}

/** A cancelled fusion's stream ends with an error chunk whose code is "cancelled". */
const isCancellation = (error: unknown) => isObject(error) && error.code === "cancelled";

/** Stages still open when the run stops short (cancelled, failed) are stopped, with why. */
export function closeOpenStages(state: ViewState, reason: string, at: number): ViewState {
  const close = (stage: StageView): StageView =>
    stage.phase === "waiting" || stage.phase === "running"
      ? { ...stage, phase: "failed", error: reason, ...(stage.startMs !== undefined ? { endMs: at } : {}) }
      : stage;
  return {
    ...state,
    panel: state.panel.map(close),
    judge: state.judge && close(state.judge),
    writer: state.writer && close(state.writer),
  };
}

/** Applies one `chat.completion.chunk` (the writer's answer, the finishing chunk, usage, an error). */
export function applyChunk(state: ViewState, chunk: JsonObject, at: number): ViewState {
  let next = state;
  const model = str(chunk.model);
  if (model) next = { ...next, model };
  if (chunk.error !== undefined) {
    const cancelled = next.status === "cancelled" || isCancellation(chunk.error);
    next = { ...next, status: cancelled ? "cancelled" : "failed", error: errorMessage(chunk.error) };
  }
  const choice = objects(chunk.choices)[0];
  const delta = choice && isObject(choice.delta) ? choice.delta : undefined;
  const content = str(delta?.content);
  if (content) {
    next = { ...next, answer: next.answer + content, writer: writerWriting(next.writer, model, at) };
  }
  const reasoning = str(delta?.reasoning);
  if (reasoning) next = { ...next, reasoning: next.reasoning + reasoning };
  const citations = citationsOf(delta?.annotations);
  if (citations.length) next = { ...next, citations: mergeCitations(next.citations, citations) };
  const finishReason = str(choice?.finish_reason);
  if (finishReason && finishReason !== "error") next = { ...next, writer: writerEnded(next.writer, at) };
  const fusion = fusionResultOf(chunk.fusion);
  if (fusion) next = { ...next, result: fusion };
  const usage = usageOf(chunk.usage);
  if (usage) next = { ...next, usage };
  return next;
}

/** The stream's end (`data: [DONE]`): a run still running is done; a failed or cancelled one stays so. */
export function applyDone(state: ViewState, at: number): ViewState {
  if (state.status === "cancelled") return closeOpenStages(state, "cancelled", at);
  if (state.status === "failed") return closeOpenStages(state, "the fusion failed", at);
  return { ...state, status: "done", writer: writerEnded(state.writer, at) };
}
