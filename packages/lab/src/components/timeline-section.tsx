import { formatMs } from "../format.ts";
import { timelineOf } from "../state/timeline.ts";
import type { ViewState } from "../state/view-state.ts";
import { CostsTable } from "./costs-table.tsx";
import { Region } from "./region.tsx";

/**
 * Where the time and money went: every stage and tool call on one time axis (the SSE ids' server
 * times), then the cost of each stage. Bars are placed with style props (set through the CSSOM, which
 * a Content-Security-Policy without 'unsafe-inline' allows).
 */
export function TimelineSection(props: { view: ViewState }) {
  const { spanMs, rows } = timelineOf(props.view);
  return (
    <Region id="timeline" title="Timeline">
      {rows.length === 0 ? (
        <p class="muted">Every stage and tool call appears here on one time axis.</p>
      ) : (
        <>
          <div class="tl-axis" aria-hidden="true">
            <span>0 s</span>
            <span>{formatMs(spanMs / 2)}</span>
            <span>{formatMs(spanMs)}</span>
          </div>
          <ol class="timeline">
            {rows.map((row) => (
              <li key={row.key} class={`tl-row${row.nested ? " tl-nested" : ""}`} data-failed={row.failed}>
                <span class="tl-label">
                  {row.label}
                  <span class="muted">
                    {" "}
                    at {formatMs(row.startMs)}, {formatMs(row.durationMs)}
                    {row.status === "done" ? "" : `, ${row.status}`}
                  </span>
                </span>
                <span class="tl-track" aria-hidden="true">
                  <span class="tl-bar" style={{ left: `${row.leftPct}%`, width: `${row.widthPct}%` }} />
                </span>
              </li>
            ))}
          </ol>
        </>
      )}
      <CostsTable view={props.view} />
    </Region>
  );
}
