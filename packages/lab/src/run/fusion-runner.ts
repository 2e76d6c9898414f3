import { compareRequestBody, fusionRequestBody } from "../api/fusion-request.ts";
import { cancelFusion, type FusionSummary, openFusionStream, postCompletion } from "../api/fusions.ts";
import { errorOf } from "../api/http.ts";
import { readSse } from "../api/read-sse.ts";
import type { Settings } from "../settings.ts";
import {
  type CompareState,
  endCompare,
  idleCompare,
  reduceCompare,
  startCompare,
} from "../state/compare-state.ts";
import { markCancelled, markFailed, reduceEvent } from "../state/reduce.ts";
import { startView, type ViewState } from "../state/view-state.ts";
import type { Store } from "./store.ts";

/** Reattaching after a stream that ended early: this many tries, waiting longer each time. */
const REATTACH_TRIES = 3;
const REATTACH_BASE_MS = 500;
/** How long Cancel waits for the id of a fusion whose request is not answered yet. */
const ID_WAIT_MS = 3000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs fusions for the page: starts one (and the compared single model), follows its stream into the
 * view store, reattaches with the last applied event id when the stream ends before `[DONE]` (and
 * after a reload), replays one from history, and cancels.
 */
export class FusionRunner {
  readonly #view: Store<ViewState>;
  readonly #compare: Store<CompareState>;
  readonly #apiKey: () => string;
  #controller: AbortController | null = null;
  #compareController: AbortController | null = null;

  constructor(view: Store<ViewState>, compare: Store<CompareState>, apiKey: () => string) {
    this.#view = view;
    this.#compare = compare;
    this.#apiKey = apiKey;
  }

  /** Starts a fusion from the set-up form, and the compared model beside it when asked. */
  run(settings: Settings, alias: string): void {
    this.#stopStreams();
    this.#view.set(startView({ panel: settings.models, judge: settings.judge }));
    const controller = new AbortController();
    this.#controller = controller;
    const body = fusionRequestBody(settings, alias);
    void this.#follow(controller, () => postCompletion(body, this.#apiKey(), controller.signal));
    if (settings.compare) this.#runCompare(settings.compareModel, settings.prompt);
    else this.#compare.set(idleCompare);
  }

  /** Reattaches to the saved running fusion after a reload, after its last applied event. */
  resume(): void {
    // A plain chat completion cannot be resumed: a comparison cut by the reload says so.
    this.#compare.set((c) => endCompare(c, "failed", Date.now(), "interrupted by a reload of the page"));
    const view = this.#view.get();
    if (view.status !== "running") return;
    if (!view.fusionId) {
      this.#view.set((v) => markFailed(v, "the page was reloaded before the gateway named the fusion"));
      return;
    }
    const controller = new AbortController();
    this.#controller = controller;
    const { fusionId, lastEventId } = view;
    void this.#follow(controller, () =>
      openFusionStream(fusionId, lastEventId, this.#apiKey(), controller.signal),
    );
  }

  /** Reopens a fusion of the history: its whole stream again, from the start. */
  replay(fusion: FusionSummary): void {
    this.#stopStreams();
    this.#view.set(
      startView({
        fusionId: fusion.id,
        panel: fusion.models,
        ...(fusion.judge ? { judge: fusion.judge } : {}),
      }),
    );
    this.#compare.set(idleCompare);
    const controller = new AbortController();
    this.#controller = controller;
    void this.#follow(controller, () => openFusionStream(fusion.id, null, this.#apiKey(), controller.signal));
  }

  /** Cancels the running fusion (its upstream calls stop) and stops reading its stream. */
  async cancel(): Promise<void> {
    this.#view.set(markCancelled);
    this.#compare.set((c) => endCompare(c, "cancelled", Date.now()));
    // Cancelled before the gateway answered: its answer names the fusion (X-Fusion-Id) at once.
    const fusionId = this.#view.get().fusionId ?? (await this.#fusionIdWithin(ID_WAIT_MS));
    this.#stopStreams();
    if (!fusionId) return;
    try {
      const refused = await cancelFusion(fusionId, this.#apiKey());
      if (refused) this.#view.set((v) => ({ ...v, error: `cancel: ${refused}` }));
    } catch (err) {
      this.#view.set((v) => ({ ...v, error: `cancel: ${messageOf(err)}` }));
    }
  }

  async #fusionIdWithin(ms: number): Promise<string | null> {
    for (const deadline = Date.now() + ms; this.#controller && Date.now() < deadline; ) {
      await sleep(50);
      const { fusionId } = this.#view.get();
      if (fusionId) return fusionId;
    }
    return null;
  }

  #stopStreams(): void {
    this.#controller?.abort();
    this.#compareController?.abort();
    this.#controller = null;
    this.#compareController = null;
  }

  /**
   * Reads the fusion's stream into the view. When it ends before the fusion did, reattaches after the
   * last applied event id, up to REATTACH_TRIES times in a row without an event in between.
   */
  async #follow(controller: AbortController, open: () => Promise<Response>): Promise<void> {
    const live = () => this.#controller === controller && !controller.signal.aborted;
    let connect = open;
    let resuming = false;
    for (let misses = 0; ; ) {
      let lost: string;
      let received = false;
      try {
        const response = await connect();
        if (!live()) return;
        if (!response.ok) {
          const error = await errorOf(response);
          this.#view.set((v) => markFailed(v, resuming ? `resume: ${error}` : error));
          return;
        }
        if (!response.body) throw new Error("the response has no body");
        const fusionId = response.headers.get("x-fusion-id");
        if (fusionId) this.#view.set((v) => (v.fusionId ? v : { ...v, fusionId }));
        await readSse(response.body, (message) => {
          received = true;
          if (live()) this.#view.set((v) => reduceEvent(v, message));
        });
        lost = "the stream ended before the fusion finished";
      } catch (err) {
        lost = messageOf(err);
      }
      if (!live()) return;
      const { status, fusionId } = this.#view.get();
      if (status !== "running") return;
      misses = received ? 1 : misses + 1;
      if (!fusionId || misses > REATTACH_TRIES) {
        this.#view.set((v) => markFailed(v, lost));
        return;
      }
      await sleep(REATTACH_BASE_MS * 2 ** (misses - 1));
      if (!live()) return;
      resuming = true;
      connect = () =>
        openFusionStream(fusionId, this.#view.get().lastEventId, this.#apiKey(), controller.signal);
    }
  }

  #runCompare(model: string, prompt: string): void {
    const controller = new AbortController();
    this.#compareController = controller;
    this.#compare.set(startCompare(model, Date.now()));
    const end = (status: "failed" | "done", error?: string) =>
      this.#compare.set((c) => endCompare(c, status, Date.now(), error));
    void (async () => {
      try {
        const response = await postCompletion(
          compareRequestBody(model, prompt),
          this.#apiKey(),
          controller.signal,
        );
        if (!response.ok || !response.body) return end("failed", await errorOf(response));
        await readSse(response.body, (message) => {
          this.#compare.set((c) => reduceCompare(c, message, Date.now()));
        });
        end("done");
      } catch (err) {
        if (!controller.signal.aborted) end("failed", messageOf(err));
      }
    })();
  }
}
