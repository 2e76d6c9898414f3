import { formatMs } from "../format.ts";
import type { ViewState } from "../state/view-state.ts";
import { fusionLatencyMs } from "./answer-section.tsx";

function statusText(view: ViewState): string {
  switch (view.status) {
    case "idle":
      return "Ready.";
    case "running":
      return view.fusionId ? `Running fusion ${view.fusionId}…` : "Starting a fusion…";
    case "done":
      return `Done in ${formatMs(fusionLatencyMs(view))}.`;
    case "cancelled":
      return "Cancelled.";
    case "failed":
      return `Failed: ${view.error ?? "unknown error"}`;
  }
}

/** The run's state, announced politely when it changes (never token by token). */
export function StatusLine(props: { view: ViewState }) {
  return (
    <p class="status-line" role="status" data-status={props.view.status}>
      {statusText(props.view)}
    </p>
  );
}
