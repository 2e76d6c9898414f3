import type { Analysis, Source } from "@fusion/wire";
import { stageStatusText } from "../state/stage-status.ts";
import { stageText, type ViewState } from "../state/view-state.ts";
import { Region } from "./region.tsx";
import { SourceLinks } from "./source-links.tsx";

function Models(props: { models: readonly string[] }) {
  return <span class="models">{props.models.join(", ")}</span>;
}

function Empty() {
  return <p class="muted">None.</p>;
}

function AnalysisBody(props: { analysis: Analysis; sources: readonly Source[] }) {
  const { analysis, sources } = props;
  return (
    <div class="analysis">
      <h3>Consensus</h3>
      {analysis.consensus.length === 0 ? <Empty /> : null}
      <ul>
        {analysis.consensus.map((point, i) => (
          <li key={i}>
            {point}
            <SourceLinks urls={analysis.consensus_sources?.[i]} known={sources} />
          </li>
        ))}
      </ul>

      <h3>Contradictions</h3>
      {analysis.contradictions.length === 0 ? <Empty /> : null}
      {analysis.contradictions.map((c, i) => (
        <div key={i} class="contradiction">
          <h4>{c.topic}</h4>
          <ul class="stances">
            {c.stances.map((s) => (
              <li key={s.model} class="stance">
                <Models models={[s.model]} />
                <p>{s.stance}</p>
              </li>
            ))}
          </ul>
          <SourceLinks urls={c.sources} known={sources} />
        </div>
      ))}

      <h3>Partial coverage</h3>
      {analysis.partial_coverage.length === 0 ? <Empty /> : null}
      <ul>
        {analysis.partial_coverage.map((p, i) => (
          <li key={i}>
            {p.point} <Models models={p.models} />
            <SourceLinks urls={p.sources} known={sources} />
          </li>
        ))}
      </ul>

      <h3>Unique insights</h3>
      {analysis.unique_insights.length === 0 ? <Empty /> : null}
      <ul>
        {analysis.unique_insights.map((u, i) => (
          <li key={i}>
            {u.insight} <Models models={[u.model]} />
            <SourceLinks urls={u.sources} known={sources} />
          </li>
        ))}
      </ul>

      <h3>Blind spots</h3>
      {analysis.blind_spots.length === 0 ? <Empty /> : null}
      <ul>
        {analysis.blind_spots.map((b, i) => (
          <li key={i}>{b}</li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The judge's comparison: consensus, contradictions (every model's stance side by side), partial
 * coverage, unique insights and blind spots, each naming its models and linking its sources; or, in
 * plain words, why there is none.
 */
export function AnalysisSection(props: { view: ViewState }) {
  const { result, judge, panel } = props.view;
  const failed = result?.failed_models ?? [];
  const judgeText = judge ? stageText(judge) : "";
  return (
    <Region id="analysis" title="Analysis">
      {judge && !result ? (
        <p>
          Judge <span class="models">{judge.model}</span>: {stageStatusText(judge)}
        </p>
      ) : null}
      {!judge && !result ? (
        <p class="muted">
          {panel.length ? "The judge compares the answers once the panel is done." : "No fusion yet."}
        </p>
      ) : null}
      {result?.status === "error" ? (
        <p class="notice" data-kind="error">
          {result.failure_reason === "all_panels_failed"
            ? "All panels failed: no panelist answered, so there is nothing to compare and no analysis."
            : `The fusion gave no analysis (${result.failure_reason ?? "error"}).`}
          {result.error ? ` ${result.error}` : ""}
        </p>
      ) : null}
      {result?.status === "ok" && !result.analysis ? (
        <p class="notice">
          Status ok without analysis: the judge gave no usable comparison, so the answer was written from the
          panel's responses alone.
        </p>
      ) : null}
      {failed.length ? (
        <p>
          Failed models: <Models models={failed} />
        </p>
      ) : null}
      {result?.analysis ? <AnalysisBody analysis={result.analysis} sources={result.sources ?? []} /> : null}
      {judgeText ? (
        <details class="raw">
          <summary>The judge's raw output</summary>
          <pre>{judgeText}</pre>
        </details>
      ) : null}
    </Region>
  );
}
