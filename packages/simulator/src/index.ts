export { createSimulatorApp } from "./app.ts";
export { ChatConcurrency } from "./concurrency.ts";
export { SimulatorControl } from "./control-client.ts";
export { type Role, roleSchema, type Script, scriptSchema } from "./script.ts";
export { type RunningSimulator, type StartSimulatorOptions, startSimulator } from "./server.ts";
export { type RecordedRequest, type RequestCounts, type RequestFilter, SimulatorState } from "./state.ts";
