import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import type { AssistantTurn, ChatCompletion, ChatCompletionChunk } from "@fusion/wire";
import type { Logger } from "pino";
import { Agent, type Dispatcher } from "undici";
import { OPENROUTER_CAPABILITIES, type UpstreamCapabilities } from "../dialects/dialect.ts";
import { TurnAssembler, turnFromCompletion } from "./assemble.ts";
import { type ClientSecretsAndLimits, callErrorContext, lowerCaseKeys, modelOf } from "./call-context.ts";
import type { CallOptions, ProxyResponse, StreamTurnOptions } from "./call-options.ts";
import type { UpstreamClientOptions } from "./client-options.ts";
import { parseCompletionBody } from "./completion-body.ts";
import { httpErrorOf, notEventStreamOf } from "./error-response.ts";
import { abortedError, type ErrorContext, isRecord, toUpstreamError, UpstreamError } from "./errors.ts";
import { endToEndHeaders, headerValue, release } from "./response-body.ts";
import { retryDelayMs, sleep } from "./retry.ts";
import { parseChunkStream } from "./sse.ts";
import { traceComplete, traceStream } from "./tracing.ts";

/**
 * Calls an OpenAI/OpenRouter-compatible chat-completions API over one keep-alive undici Agent.
 * Retryable failures (see UpstreamError.retryable) are retried with capped exponential backoff and full
 * jitter, honouring Retry-After; streams are retried only before their first chunk.
 *
 * Why our own retry loop rather than undici's RetryAgent or a generic retry helper: a stream may be
 * retried only until its first chunk has been handed on (after that the text has reached the client
 * and a retry would splice two answers), a 200 that carries an error must be retried like the HTTP
 * error it is, and every attempt must stay inside one trace span and one abort signal.
 */
export class UpstreamClient {
  readonly #origin: string;
  readonly #basePath: string;
  readonly #apiKey: string | undefined;
  readonly #headers: Record<string, string>;
  readonly #headersTimeoutMs: number;
  readonly #bodyTimeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #logger: Logger | undefined;
  readonly #onError: (error: Pick<UpstreamError, "kind" | "status">) => void;
  readonly #agent: Agent;
  readonly #secretsAndLimits: ClientSecretsAndLimits;

  constructor(options: UpstreamClientOptions) {
    const url = new URL(options.baseUrl);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, "");
    this.#apiKey = options.apiKey || undefined;
    this.#headers = lowerCaseKeys(options.headers ?? {});
    this.#headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
    this.#bodyTimeoutMs = options.bodyTimeoutMs ?? 120_000;
    this.#secretsAndLimits = {
      apiKey: this.#apiKey,
      headers: this.#headers,
      headersTimeoutMs: this.#headersTimeoutMs,
      bodyTimeoutMs: this.#bodyTimeoutMs,
    };
    this.#maxRetries = Math.max(0, options.maxRetries ?? 3);
    this.#retryBaseMs = options.retryBaseMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    this.#logger = options.logger;
    this.#onError = options.onError ?? (() => {});
    this.#agent = new Agent({
      connections: options.connections ?? 256,
      headersTimeout: this.#headersTimeoutMs,
      bodyTimeout: this.#bodyTimeoutMs,
    });
  }

  /**
   * Non-streaming call: forces `stream: false` (and drops `stream_options`). Retries retryable failures.
   * Validates with chatCompletionSchema; empty `choices` → UpstreamError kind "protocol".
   */
  complete(
    body: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<{ completion: ChatCompletion; turn: AssistantTurn }> {
    return traceComplete(body, options, (traced) => this.#complete(body, traced));
  }

  async #complete(
    body: Record<string, unknown>,
    options: CallOptions,
  ): Promise<{ completion: ChatCompletion; turn: AssistantTurn }> {
    const { stream_options: _dropped, ...rest } = body;
    const payload = JSON.stringify({ ...rest, stream: false });
    const model = modelOf(body);
    const ctx = this.#context(model, options);
    for (let attempt = 1; ; attempt++) {
      try {
        const completion = await this.#completeOnce(payload, options, ctx);
        return { completion, turn: turnFromCompletion(completion, model ?? "") };
      } catch (err) {
        const error = toUpstreamError(err, ctx);
        this.#onError(error);
        if (!error.retryable || attempt > this.#maxRetries) throw error;
        await this.#backoff(error, attempt, model, options, ctx);
      }
    }
  }

  /**
   * Streaming call: forces `stream: true` and `stream_options.include_usage: true`. Yields validated
   * chunks. Retries only before the first chunk has been yielded; after that a failure is thrown as is.
   * Breaking out of the loop (or aborting the signal) aborts the HTTP request.
   */
  stream(
    body: Record<string, unknown>,
    options: CallOptions = {},
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    return traceStream(body, options, (traced) => this.#stream(body, traced));
  }

  async *#stream(
    body: Record<string, unknown>,
    options: CallOptions,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    const payload = JSON.stringify({
      ...body,
      stream: true,
      stream_options: { ...streamOptions, include_usage: true },
    });
    const model = modelOf(body);
    const ctx = this.#context(model, options);
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      let suspended = false;
      let res: Dispatcher.ResponseData | undefined;
      let finished = false;
      try {
        res = await this.#post("/chat/completions", payload, "text/event-stream", options, ctx);
        if (res.statusCode < 200 || res.statusCode > 299) throw await httpErrorOf(res, ctx);
        const contentType = headerValue(res.headers["content-type"]);
        if (!contentType.toLowerCase().includes("text/event-stream")) {
          throw await notEventStreamOf(res, contentType, ctx);
        }
        const chunks = parseChunkStream(res.body.iterator({ destroyOnReturn: false }), ctx);
        for await (const chunk of chunks) {
          yielded = true;
          suspended = true;
          yield chunk;
          suspended = false;
        }
        finished = true;
        return;
      } catch (err) {
        // An error the consumer threw into the generator is not ours to map.
        if (suspended) throw err;
        const error = toUpstreamError(err, ctx);
        this.#onError(error);
        if (yielded || !error.retryable || attempt > this.#maxRetries) throw error;
        release(res?.body, false);
        res = undefined;
        await this.#backoff(error, attempt, model, options, ctx);
      } finally {
        release(res?.body, finished);
      }
    }
  }

  /**
   * Consumes `stream()` through a TurnAssembler, calling onReasoning and onText per delta; returns the
   * turn. With `onRestart`, a retryable failure after the first chunk starts the call over (see
   * `StreamTurnOptions.onRestart`); each restart counts against the client's retries.
   */
  async streamTurn(body: Record<string, unknown>, options: StreamTurnOptions = {}): Promise<AssistantTurn> {
    const { onText, onReasoning, onRestart, ...callOptions } = options;
    const model = modelOf(body);
    for (let restarts = 0; ; restarts++) {
      const assembler = new TurnAssembler(model ?? "");
      let received = false;
      try {
        for await (const chunk of this.stream(body, callOptions)) {
          received = true;
          const { content, reasoning } = assembler.push(chunk);
          if (reasoning !== undefined && onReasoning) onReasoning(reasoning, chunk);
          if (content !== undefined && onText) onText(content, chunk);
        }
        return assembler.result();
      } catch (err) {
        const restartable =
          onRestart &&
          received &&
          err instanceof UpstreamError &&
          err.retryable &&
          restarts < this.#maxRetries;
        if (!restartable) throw err;
        const ctx = this.#context(model, callOptions);
        const attempt = restarts + 2;
        const delayMs = await this.#backoff(err, restarts + 1, model, callOptions, ctx);
        onRestart({ attempt, delayMs, error: err });
      }
    }
  }

  /**
   * Raw pass-through for a gateway proxy: POSTs `rawBody` to `${baseUrl}${path}` with the auth header
   * plus the given headers; no retries and no status check. Returns the body as a web ReadableStream;
   * aborting the signal or cancelling the stream aborts the request. Throws UpstreamError only when no
   * response arrives (network, timeout, aborted).
   */
  async proxy(path: string, rawBody: string, options: CallOptions = {}): Promise<ProxyResponse> {
    const ctx = this.#context(undefined, options);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#post(path.startsWith("/") ? path : `/${path}`, rawBody, undefined, options, ctx);
    } catch (err) {
      const error = toUpstreamError(err, ctx);
      this.#onError(error);
      throw error;
    }
    if (res.statusCode >= 400) this.#onError({ kind: "http", status: res.statusCode });
    return {
      status: res.statusCode,
      headers: endToEndHeaders(res.headers),
      body: Readable.toWeb(res.body) as ReadableStream<Uint8Array>,
    };
  }

  /** Bodies go out as they are given, in OpenRouter's dialect; a ProviderRouter shapes them for others. */
  capabilities(_model?: string): UpstreamCapabilities {
    return OPENROUTER_CAPABILITIES;
  }

  /** Closes the undici dispatcher (waits for in-flight requests). */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  #context(model: string | undefined, options: CallOptions): ErrorContext {
    return callErrorContext(this.#secretsAndLimits, model, options);
  }

  async #post(
    path: string,
    payload: string,
    accept: string | undefined,
    options: CallOptions,
    ctx: ErrorContext,
  ): Promise<Dispatcher.ResponseData> {
    if (options.signal?.aborted) throw abortedError(ctx);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (accept) headers.accept = accept;
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    Object.assign(headers, this.#headers, lowerCaseKeys(options.headers ?? {}));
    return await this.#agent.request({
      origin: this.#origin,
      path: `${this.#basePath}${path}`,
      method: "POST",
      headers,
      body: payload,
      headersTimeout: this.#headersTimeoutMs,
      bodyTimeout: this.#bodyTimeoutMs,
      signal: options.signal ?? null,
    });
  }

  async #completeOnce(payload: string, options: CallOptions, ctx: ErrorContext): Promise<ChatCompletion> {
    const res = await this.#post("/chat/completions", payload, "application/json", options, ctx);
    if (res.statusCode < 200 || res.statusCode > 299) throw await httpErrorOf(res, ctx);
    return parseCompletionBody(await res.body.text(), ctx);
  }

  /** Waits before the next attempt (logged, told to `onRetry`); returns how long it waited. */
  async #backoff(
    error: UpstreamError,
    failedAttempt: number,
    model: string | undefined,
    options: CallOptions,
    ctx: ErrorContext,
  ): Promise<number> {
    const delayMs = retryDelayMs(failedAttempt - 1, error.retryAfterMs, {
      retryBaseMs: this.#retryBaseMs,
      retryMaxMs: this.#retryMaxMs,
    });
    const attempt = failedAttempt + 1;
    this.#logger?.warn(
      { model, status: error.status, kind: error.kind, attempt, maxAttempts: this.#maxRetries + 1, delayMs },
      `retrying upstream call: ${error.message}`,
    );
    options.onRetry?.({ attempt, delayMs, error });
    try {
      await sleep(delayMs, options.signal);
    } catch {
      throw abortedError(ctx);
    }
    return delayMs;
  }
}
