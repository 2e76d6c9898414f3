export { BRAVE_SUBSCRIPTION_TOKEN } from "./brave-search.ts";
export { SimulatorControl } from "./control-client.ts";
export type { Script } from "./script.ts";
export { type RunningSimulator, startSimulator } from "./server.ts";
