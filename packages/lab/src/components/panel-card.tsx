import { stageStatusText } from "../state/stage-status.ts";
import type { StageView } from "../state/view-state.ts";
import { StageStats } from "./stage-stats.tsx";
import { ToolCallList } from "./tool-call-list.tsx";

/** One panelist: its model, what it is doing, its tool calls, its text as it is written, its figures. */
export function PanelCard(props: { stage: StageView; index: number }) {
  const { stage } = props;
  const id = `panelist-${props.index}`;
  const lastStep = stage.steps.at(-1)?.step;
  return (
    <article class="card" data-phase={stage.phase} aria-labelledby={`${id}-model`}>
      <header class="card-head">
        <h3 id={`${id}-model`}>{stage.model}</h3>
        <p class="stage-status" data-phase={stage.phase}>
          {stageStatusText(stage)}
        </p>
      </header>
      {stage.attempt > 1 ? <p class="muted">Attempt {stage.attempt}: started over.</p> : null}
      <ToolCallList
        id={id}
        calls={stage.toolCalls}
        ended={stage.phase === "done" || stage.phase === "failed"}
      />
      <div class="stage-text">
        {stage.steps.map((s) => (
          <p key={s.step} class={s.step === lastStep ? "answer-step" : "note-step"}>
            {s.text}
          </p>
        ))}
      </div>
      <StageStats stage={stage} />
    </article>
  );
}
