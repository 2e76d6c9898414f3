import { LuaScript } from "@fusion/runtime";

const file = (name: string) => new URL(`./lua/${name}`, import.meta.url);

/** See lua/owner-admit.lua. */
export const ownerAdmit = new LuaScript<
  [index: string, nowMs: number, retentionMs: number, cap: number, id: string, ttlSeconds: number],
  number
>("batchOwnerAdmit", file("owner-admit.lua"), 1);

/** See lua/line-start.lua. */
export const lineStart = new LuaScript<
  [meta: string, answers: string, running: string, index: number, nowMs: number],
  "answered" | "cancelled" | "ended" | "expired" | "gone" | "run"
>("batchLineStart", file("line-start.lua"), 3);

/** See lua/line-record.lua. */
export const lineRecord = new LuaScript<
  [meta: string, answers: string, running: string, index: number, stored: string, counter: string],
  number
>("batchLineRecord", file("line-record.lua"), 3);

/** See lua/batch-transition.lua. */
export const batchTransition = new LuaScript<
  [meta: string, status: string, stampField: string, nowSeconds: number, ...from: string[]],
  string | null
>("batchTransition", file("batch-transition.lua"), 1);

/** See lua/background-acquire.lua. */
export const backgroundAcquire = new LuaScript<
  [permits: string, nowMs: number, untilMs: number, cap: number, fusionId: string],
  number
>("batchBackgroundAcquire", file("background-acquire.lua"), 1);

/** See lua/lane-claim.lua. */
export const laneClaim = new LuaScript<[meta: string, lanes: string, most: number, nowMs: number], number[]>(
  "batchLaneClaim",
  file("lane-claim.lua"),
  2,
);

/** See lua/lane-handoff.lua. */
export const laneHandoff = new LuaScript<
  [meta: string, lanes: string, answers: string, index: number, nowMs: number],
  number[]
>("batchLaneHandoff", file("lane-handoff.lua"), 3);
