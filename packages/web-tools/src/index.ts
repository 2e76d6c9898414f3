export type { LookupFn, ResolvedAddress, WebToolsConfig } from "./config.ts";
export type { FunctionToolDefinition, WebToolName } from "./definitions.ts";
export { WEB_TOOL_NAMES } from "./definitions.ts";
export { createWebToolsFromEnv, type WebToolsEnv } from "./from-env.ts";
export {
  type CheckedUrl,
  type CheckUrlOptions,
  checkUrl,
  classifyAddress,
  FetchRefusedError,
  HostResolutionError,
  isAllowedHost,
  isBlockedHostname,
  isPublicAddress,
  type RefusalCode,
} from "./ssrf.ts";
export { createWebTools, type ToolExecution, type WebTools } from "./web-tools.ts";
