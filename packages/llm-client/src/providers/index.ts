export { type FusionConfig, presetCatalog } from "./config.ts";
export { loadFusionConfig } from "./load-config.ts";
export { ProviderRouter, type ProviderRouterOptions } from "./router.ts";
export { compileMatch, ModelRoutes, type RouteRule, type RouteTarget, rewriteSlug } from "./routes.ts";
