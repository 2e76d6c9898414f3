import type { AssistantTurn, ChatCompletion, ChatCompletionChunk } from "@fusion/wire";
import type { UpstreamCapabilities } from "../dialects/dialect.ts";
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
  /**
   * The dialect and structured output of the provider that serves `model` (e.g. whether a judge may
   * ask for `response_format: json_schema`). A router throws for a model no route matches.
   */
  capabilities(model: string): UpstreamCapabilities;
  close(): Promise<void>;
}
