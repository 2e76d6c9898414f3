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
export { createUpstreamFromEnv, type UpstreamFromEnvOptions } from "./factory.ts";
export { ProviderRouter, type ProviderRouterOptions } from "./router.ts";
export { compileMatch, ModelRoutes, type RouteRule, type RouteTarget, rewriteSlug } from "./routes.ts";
export {
  type Permit,
  RedisSemaphore,
  type RedisSemaphoreOptions,
  type SemaphoreRedis,
  SemaphoreTimeoutError,
} from "./semaphore.ts";
