import { formatCost, formatMs, formatTokens } from "../format.ts";
import { costsOf } from "../state/costs.ts";
import type { ViewState } from "../state/view-state.ts";

/** Cost per stage (panelists, judge, writer) and their total. */
export function CostsTable(props: { view: ViewState }) {
  const costs = costsOf(props.view);
  if (costs.rows.length === 0) return null;
  const differs =
    costs.reported !== undefined &&
    costs.total !== undefined &&
    Math.abs(costs.reported - costs.total) > 1e-9;
  return (
    <table class="costs">
      <caption>Cost per stage</caption>
      <thead>
        <tr>
          <th scope="col">Stage</th>
          <th scope="col">Latency</th>
          <th scope="col">Tokens</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {costs.rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">
              {r.stage} <span class="models">{r.model}</span>
              {r.status !== "ok" && r.status !== "done" ? <span class="muted"> ({r.status})</span> : null}
            </th>
            <td>{formatMs(r.latencyMs)}</td>
            <td>{formatTokens(r.tokens)}</td>
            <td>{formatCost(r.cost)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={3}>
            Total
          </th>
          <td>{formatCost(costs.total)}</td>
        </tr>
        {differs ? (
          <tr>
            <th scope="row" colSpan={3}>
              Reported in usage
            </th>
            <td>{formatCost(costs.reported)}</td>
          </tr>
        ) : null}
      </tfoot>
    </table>
  );
}
