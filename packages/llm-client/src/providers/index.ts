export {
  expandEnv,
  type FusionConfig,
  FusionConfigError,
  fusionConfigEnv,
  loadFusionConfig,
  type ProviderConfig,
  parseFusionConfig,
  presetCatalog,
} from "./config.ts";
export { ProviderRouter, type ProviderRouterOptions } from "./router.ts";
export { compileMatch, ModelRoutes, type RouteRule, type RouteTarget, rewriteSlug } from "./routes.ts";
