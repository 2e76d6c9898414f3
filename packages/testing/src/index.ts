export { freePort } from "./free-port.ts";
export { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.ts";
export { type RedisFixture, startRedis, startRedisServer, waitForRedis } from "./redis.ts";
export { type RedisClusterFixture, startRedisCluster } from "./redis-cluster.ts";
export * from "./scripted-server.ts";
export { type RunningService, type ServiceName, Stack, type StackOptions, serviceEntries } from "./stack.ts";
