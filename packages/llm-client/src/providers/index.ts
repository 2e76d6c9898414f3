export { type FusionConfig, presetCatalog } from "./config.ts";
export { loadFusionConfig } from "./load-config.ts";
export { ProviderRouter } from "./router.ts";
export { ModelRoutes } from "./routes.ts";
