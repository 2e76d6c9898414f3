export {
  type BrowserFixture,
  describeA11yViolations,
  launchBrowser,
  saveScreenshot,
  seriousA11yViolations,
} from "./browser.ts";
export { freePort } from "./free-port.ts";
export { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.ts";
export { type RedisFixture, startRedis, startRedisServer } from "./redis.ts";
export { type RedisClusterFixture, startRedisCluster } from "./redis-cluster.ts";
export * from "./scripted-server.ts";
export { readSseFrames, type SseFrame } from "./sse-reader.ts";
export { type ServiceName, Stack, type StackOptions, serviceEntries } from "./stack.ts";
