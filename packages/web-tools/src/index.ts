export { createWebToolsFromEnv } from "./from-env.ts";
export { createWebTools } from "./web-tools.ts";
