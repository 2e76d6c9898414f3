export { assistantMessage } from "./assistant-message.ts";
export type { CallOptions } from "./call-options.ts";
export { UpstreamClient } from "./client.ts";
export { httpError, UpstreamError } from "./errors.ts";
export { newToolCallId } from "./tool-call-id.ts";
export type { Upstream } from "./upstream.ts";
