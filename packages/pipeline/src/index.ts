export * from "./event-sink.ts";
export * from "./judge/judge-json.ts";
export * from "./progress-reporter.ts";
export * from "./prompts.ts";
export * from "./stages.ts";
export * from "./writer/answer-emitter.ts";
export * from "./writer/chunks.ts";
export * from "./writer/citations.ts";
