export { type PushResult, TurnAssembler, turnFromCompletion } from "./assemble.ts";
export {
  type CallOptions,
  type ProxyResponse,
  type RetryInfo,
  type StreamTurnOptions,
  UpstreamClient,
  type UpstreamClientOptions,
} from "./client.ts";
export {
  isRetryableStatus,
  isUpstreamError,
  UpstreamError,
  type UpstreamErrorKind,
  type UpstreamErrorOptions,
} from "./errors.ts";
export { parseRetryAfter, retryDelayMs } from "./retry.ts";
export { type ChunkStreamContext, parseChunkStream } from "./sse.ts";
export type { Upstream } from "./upstream.ts";
