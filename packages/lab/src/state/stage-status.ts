import type { StageView } from "./view-state.ts";

/**
 * What a stage's card says it is doing: waiting, searching, fetching, writing, done, or
 * "failed: <reason>". A stage with a tool call still out is searching (web_search) or fetching
 * (web_fetch); otherwise a running stage is writing.
 */
export function stageStatusText(stage: StageView): string {
  switch (stage.phase) {
    case "waiting":
      return "waiting";
    case "done":
      return "done";
    case "failed":
      return `failed: ${stage.error ?? "unknown reason"}`;
    case "running": {
      const open = stage.toolCalls.filter((c) => c.endMs === undefined);
      if (open.some((c) => c.tool === "web_fetch" || (c.url !== undefined && c.tool !== "web_search")))
        return "fetching";
      if (open.length > 0) return "searching";
      return "writing";
    }
  }
}
