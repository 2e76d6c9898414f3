export * from "./chat.ts";
export * from "./chat-request.ts";
export * from "./error-shape.ts";
export * from "./fusion-result.ts";
export * from "./presets.ts";
export * from "./progress.ts";
export * from "./stream-events.ts";
export * from "./usage.ts";
