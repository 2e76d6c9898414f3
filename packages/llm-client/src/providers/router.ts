import { ReadableStream } from "node:stream/web";
import type { AssistantTurn, ChatCompletion, ChatCompletionChunk } from "@fusion/wire";
import type { Logger } from "pino";
import { resolveCapabilities, type UpstreamCapabilities } from "../dialects/dialect.ts";
import { shapeRequest } from "../dialects/shape-request.ts";
import type { CallOptions, ProxyResponse, StreamTurnOptions } from "../upstream/call-options.ts";
import { UpstreamClient } from "../upstream/client.ts";
import type { UpstreamClientOptions } from "../upstream/client-options.ts";
import { UpstreamError } from "../upstream/errors.ts";
import type { Upstream } from "../upstream/upstream.ts";
import type { FusionConfig } from "./config.ts";
import { type ConcurrencyLimiter, type LimiterFactory, LimiterTimeoutError, type Permit } from "./limiter.ts";
import { ModelRoutes, type RouteTarget } from "./routes.ts";

export interface ProviderRouterOptions {
  config: Pick<FusionConfig, "providers" | "routes">;
  /** Needed when a provider has `maxConcurrency`: makes the limiter that holds it (the runtime's is held in Redis, across every process). */
  limiter?: LimiterFactory;
  /** Client settings a provider does not set (timeouts, retries), e.g. from the environment. */
  defaults?: Omit<UpstreamClientOptions, "baseUrl" | "apiKey" | "headers">;
  logger?: Logger;
}

interface Provider {
  name: string;
  client: UpstreamClient;
  limiter?: ConcurrencyLimiter;
  queueTimeoutMs: number;
  /** Its dialect and structured output: set in the providers file, or following from its base URL. */
  capabilities: UpstreamCapabilities;
  /** Top-level body fields this provider does not accept (`drop_fields`), removed after the dialect's. */
  dropFields?: readonly string[];
}

interface Target extends RouteTarget {
  upstream: Provider;
  body: Record<string, unknown>;
}

/**
 * An Upstream that sends each call to the provider whose route matches the body's `model` (first match
 * wins), with the slug rewritten and the body shaped for that provider's dialect, and with a slot of
 * the provider's concurrency limit held for as long as the call runs: retries included, a stream until
 * it ends, a proxied body until it is read or cancelled.
 */
export class ProviderRouter implements Upstream {
  readonly routes: ModelRoutes;
  readonly #providers = new Map<string, Provider>();

  constructor(options: ProviderRouterOptions) {
    const { config } = options;
    this.routes = new ModelRoutes(config.routes, config.providers);
    for (const p of Object.values(config.providers)) {
      const client = new UpstreamClient({
        ...options.defaults,
        baseUrl: p.baseUrl,
        ...(p.apiKey ? { apiKey: p.apiKey } : {}),
        headers: p.headers,
        ...(p.headersTimeoutMs !== undefined ? { headersTimeoutMs: p.headersTimeoutMs } : {}),
        ...(p.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: p.bodyTimeoutMs } : {}),
        ...(p.maxRetries !== undefined ? { maxRetries: p.maxRetries } : {}),
        ...(p.retryBaseMs !== undefined ? { retryBaseMs: p.retryBaseMs } : {}),
        ...(p.retryMaxMs !== undefined ? { retryMaxMs: p.retryMaxMs } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      const provider: Provider = {
        name: p.name,
        client,
        queueTimeoutMs: p.queueTimeoutMs ?? 600_000,
        capabilities: resolveCapabilities(p.baseUrl, p),
      };
      if (p.dropFields?.length) provider.dropFields = p.dropFields;
      if (p.maxConcurrency !== undefined) {
        if (!options.limiter) {
          throw new Error(`provider ${p.name} has max_concurrency, which needs a concurrency limiter`);
        }
        provider.limiter = options.limiter(p.name, p.maxConcurrency);
      }
      this.#providers.set(p.name, provider);
    }
  }

  async complete(
    body: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<{ completion: ChatCompletion; turn: AssistantTurn }> {
    const target = this.#target(body);
    const permit = await this.#acquire(target.upstream, options);
    try {
      return await target.upstream.client.complete(target.body, options);
    } finally {
      permit.release();
    }
  }

  async *stream(
    body: Record<string, unknown>,
    options: CallOptions = {},
  ): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    const target = this.#target(body);
    const permit = await this.#acquire(target.upstream, options);
    try {
      yield* target.upstream.client.stream(target.body, options);
    } finally {
      permit.release();
    }
  }

  async streamTurn(body: Record<string, unknown>, options: StreamTurnOptions = {}): Promise<AssistantTurn> {
    const target = this.#target(body);
    const permit = await this.#acquire(target.upstream, options);
    try {
      return await target.upstream.client.streamTurn(target.body, options);
    } finally {
      permit.release();
    }
  }

  /** The dialect and structured output of the provider whose route matches `model`. */
  capabilities(model: string): UpstreamCapabilities {
    const resolved = this.routes.resolve(model);
    const upstream = resolved && this.#providers.get(resolved.provider);
    if (!upstream) throw noRouteError(model);
    return upstream.capabilities;
  }

  /**
   * Routes by the `model` of the JSON body; the body is re-serialized only when something changes (the
   * slug rewritten, the dialect's fields, `drop_fields`), else its bytes go as they came.
   * A model no route matches is answered 400 here, in OpenRouter's error shape.
   */
  async proxy(path: string, rawBody: string, options: CallOptions = {}): Promise<ProxyResponse> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      parsed = undefined;
    }
    const body = isObject(parsed) ? parsed : {};
    const model = typeof body.model === "string" ? body.model : "";
    const resolved = this.routes.resolve(model);
    const upstream = resolved && this.#providers.get(resolved.provider);
    if (!resolved || !upstream) return errorResponse(400, noRouteMessage(model));
    const sent = bodyFor(body, resolved.model, upstream);
    const payload = sent === body ? rawBody : JSON.stringify(sent);
    let permit: Permit;
    try {
      permit = await this.#acquire(upstream, options);
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === "timeout") return errorResponse(503, err.message);
      throw err;
    }
    let res: ProxyResponse;
    try {
      res = await upstream.client.proxy(path, payload, options);
    } catch (err) {
      permit.release();
      throw err;
    }
    return { ...res, body: releasingBody(res.body, () => permit.release()) };
  }

  /** Closes every provider's client; slots still held lapse after their lease. */
  async close(): Promise<void> {
    for (const p of this.#providers.values()) p.limiter?.close();
    await Promise.allSettled([...this.#providers.values()].map((p) => p.client.close()));
  }

  #target(body: Record<string, unknown>): Target {
    const model = typeof body.model === "string" ? body.model : "";
    const resolved = this.routes.resolve(model);
    const upstream = resolved && this.#providers.get(resolved.provider);
    if (!resolved || !upstream) throw noRouteError(model);
    return { ...resolved, upstream, body: bodyFor(body, resolved.model, upstream) };
  }

  async #acquire(provider: Provider, options: CallOptions): Promise<Permit> {
    if (!provider.limiter) return { release() {} };
    try {
      return await provider.limiter.acquire({
        ...(options.signal ? { signal: options.signal } : {}),
        timeoutMs: provider.queueTimeoutMs,
      });
    } catch (err) {
      if (err instanceof LimiterTimeoutError) {
        throw new UpstreamError("timeout", err.message, { retryable: false, cause: err });
      }
      if (options.signal?.aborted) {
        throw new UpstreamError(
          "aborted",
          `the call was aborted while waiting for a slot of ${provider.name}`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }
}

/**
 * The body as the provider should receive it: shaped for its dialect, then without the fields it does
 * not accept (`drop_fields`), with the slug rewritten. The same object when nothing changes (so a
 * proxied body can be sent as it came).
 */
function bodyFor(body: Record<string, unknown>, model: string, provider: Provider): Record<string, unknown> {
  const shaped = shapeRequest(body, provider.capabilities);
  const drop = provider.dropFields?.filter((f) => Object.hasOwn(shaped, f)) ?? [];
  if (shaped === body && body.model === model && drop.length === 0) return body;
  const out: Record<string, unknown> = { ...shaped, model };
  for (const f of drop) delete out[f];
  return out;
}

function noRouteError(model: string): UpstreamError {
  return new UpstreamError("http", noRouteMessage(model), { status: 400, retryable: false });
}

function noRouteMessage(model: string): string {
  return model
    ? `no provider route matches model "${model}"`
    : "the request names no model, and no provider route matches it";
}

function errorResponse(status: number, message: string): ProxyResponse {
  const text = JSON.stringify({ error: { code: status, message } });
  return {
    status,
    headers: { "content-type": "application/json" },
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    }),
  };
}

/** The same bytes; `onEnd` runs once when the body is read to its end, fails, or is cancelled. */
function releasingBody(source: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
