import { formatCost, formatMs } from "../format.ts";
import { safeHref } from "../markdown/safe-href.ts";
import { stageStatusText } from "../state/stage-status.ts";
import type { ViewState } from "../state/view-state.ts";
import { MarkdownView } from "./markdown-view.tsx";
import { Region } from "./region.tsx";

/** The fusion's time from its first event to its last (the SSE ids' server times). */
export function fusionLatencyMs(view: ViewState): number | undefined {
  return view.firstMs !== null && view.lastMs !== null ? view.lastMs - view.firstMs : undefined;
}

/** The writer's answer, streamed as Markdown, with its citations as numbered links. */
export function AnswerSection(props: { view: ViewState }) {
  const { view } = props;
  const ended = view.status === "done" || view.status === "failed" || view.status === "cancelled";
  return (
    <Region id="answer" title="Answer">
      <p class="muted">
        {view.writer ? (
          <>
            Written by <span class="models">{view.model ?? view.writer.model}</span>:{" "}
            {stageStatusText(view.writer)}
          </>
        ) : view.status === "running" ? (
          "The answer streams here once the panel and the judge are done."
        ) : (
          "No answer yet."
        )}
      </p>
      {view.error ? (
        <p class="notice" data-kind="error">
          {view.error}
        </p>
      ) : null}
      {view.answer ? <MarkdownView markdown={view.answer} /> : null}
      {view.reasoning ? (
        <details class="raw">
          <summary>The writer's reasoning</summary>
          <pre>{view.reasoning}</pre>
        </details>
      ) : null}
      {view.citations.length ? (
        <>
          <h3 id="citations-heading">Citations</h3>
          <ol class="citations" aria-labelledby="citations-heading">
            {view.citations.map((c, i) => {
              const href = safeHref(c.url);
              const label = `[${i + 1}] ${c.title}`;
              return (
                <li key={c.url}>
                  {href ? (
                    <a href={href} target="_blank" rel="noopener noreferrer">
                      {label}
                    </a>
                  ) : (
                    label
                  )}
                </li>
              );
            })}
          </ol>
        </>
      ) : null}
      {ended && view.firstMs !== null ? (
        <p class="figures">
          Fusion: {formatMs(fusionLatencyMs(view))} · {formatCost(view.usage?.cost)}
        </p>
      ) : null}
    </Region>
  );
}
