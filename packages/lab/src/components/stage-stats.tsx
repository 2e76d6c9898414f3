import { formatCost, formatMs, formatTokens } from "../format.ts";
import type { StageView } from "../state/view-state.ts";

/** Latency, tokens and cost of a stage that has ended. */
export function StageStats(props: { stage: StageView }) {
  const { stage } = props;
  if (stage.phase !== "done" && stage.phase !== "failed") return null;
  const latency =
    stage.latencyMs ??
    (stage.startMs !== undefined && stage.endMs !== undefined ? stage.endMs - stage.startMs : undefined);
  return (
    <dl class="stats">
      <div>
        <dt>Latency</dt>
        <dd>{formatMs(latency)}</dd>
      </div>
      <div>
        <dt>Tokens</dt>
        <dd>{formatTokens(stage.usage?.total_tokens)}</dd>
      </div>
      <div>
        <dt>Cost</dt>
        <dd>{formatCost(stage.usage?.cost)}</dd>
      </div>
    </dl>
  );
}
