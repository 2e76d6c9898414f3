import type { ViewState } from "../state/view-state.ts";
import { PanelCard } from "./panel-card.tsx";
import { Region } from "./region.tsx";

export function PanelSection(props: { view: ViewState }) {
  const { panel } = props.view;
  return (
    <Region id="panel" title="Panel">
      {panel.length === 0 ? (
        <p class="muted">Each panel model gets a card here when a fusion runs.</p>
      ) : (
        <div class="cards">
          {panel.map((stage, i) => (
            <PanelCard key={i} stage={stage} index={i} />
          ))}
        </div>
      )}
    </Region>
  );
}
