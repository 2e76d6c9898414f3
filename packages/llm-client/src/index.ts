export * from "./providers/index.ts";
export * from "./providers/limiter.ts";
export * from "./tool-loop/tool-executor.ts";
export * from "./tool-loop/tool-loop.ts";
export * from "./tool-loop/tool-tracing.ts";
export * from "./trace.ts";
export * from "./upstream/describe-failure.ts";
export * from "./upstream/index.ts";
