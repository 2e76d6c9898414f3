import type { AssistantTurn, ChatCompletion, ChatCompletionChunk } from "@fusion/wire";
import type { CallOptions, ProxyResponse, StreamTurnOptions } from "./call-options.ts";

/**
 * What callers need of an upstream: a single `UpstreamClient`, or a `ProviderRouter` that picks one
 * client per call from the body's `model` (see `providers/`).
 */
export interface Upstream {
  complete(
    body: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<{ completion: ChatCompletion; turn: AssistantTurn }>;
  stream(
    body: Record<string, unknown>,
    options?: CallOptions,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined>;
  streamTurn(body: Record<string, unknown>, options?: StreamTurnOptions): Promise<AssistantTurn>;
  /** Raw pass-through of a JSON body; a router reads the body's `model` to pick the upstream. */
  proxy(path: string, rawBody: string, options?: CallOptions): Promise<ProxyResponse>;
  close(): Promise<void>;
}
