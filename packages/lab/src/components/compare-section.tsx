import { formatCost, formatMs } from "../format.ts";
import type { CompareState } from "../state/compare-state.ts";
import type { ViewState } from "../state/view-state.ts";
import { fusionLatencyMs } from "./answer-section.tsx";
import { MarkdownView } from "./markdown-view.tsx";
import { Region } from "./region.tsx";

const STATUS: Record<CompareState["status"], string> = {
  idle: "not run",
  running: "writing",
  done: "done",
  failed: "failed",
  cancelled: "cancelled",
};

/** The same prompt to a single model, beside the fusion's answer, with both latencies and costs. */
export function CompareSection(props: { compare: CompareState; view: ViewState }) {
  const { compare, view } = props;
  if (compare.status === "idle") {
    return (
      <Region id="compare" title="Compare">
        <p class="muted">
          Tick “Compare with a single model” to send the same prompt to one model beside the fusion.
        </p>
      </Region>
    );
  }
  const latency =
    compare.startedAt !== null && compare.endedAt !== null ? compare.endedAt - compare.startedAt : undefined;
  const firstText =
    compare.startedAt !== null && compare.firstTextAt !== null
      ? compare.firstTextAt - compare.startedAt
      : undefined;
  const fusionEnded = view.status === "done" || view.status === "failed" || view.status === "cancelled";
  return (
    <Region id="compare" title="Compare">
      <p class="muted">
        <span class="models">{compare.model}</span> alone: {STATUS[compare.status]}
        {compare.error ? `: ${compare.error}` : ""}
      </p>
      {compare.text ? <MarkdownView markdown={compare.text} /> : null}
      <table class="costs">
        <caption>Latency and cost</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Latency</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Fusion</th>
            <td>{fusionEnded ? formatMs(fusionLatencyMs(view)) : "running…"}</td>
            <td>{formatCost(view.usage?.cost)}</td>
          </tr>
          <tr>
            <th scope="row">
              Single model <span class="models">{compare.model}</span>
            </th>
            <td>
              {compare.status === "running" ? "running…" : formatMs(latency)}
              {firstText !== undefined ? (
                <span class="muted"> (first text {formatMs(firstText)})</span>
              ) : null}
            </td>
            <td>{formatCost(compare.usage?.cost)}</td>
          </tr>
        </tbody>
      </table>
    </Region>
  );
}
