import type { FusionSummary } from "../api/fusions.ts";
import { formatCost } from "../format.ts";
import { Region } from "./region.tsx";

function when(created: number): string {
  return created ? new Date(created * 1000).toLocaleTimeString("en-GB") : "";
}

/**
 * This key's recent fusions, as links (a prompt's words never collide with the names of the Run and
 * Cancel buttons); opening one replays it from the start of its stream.
 */
export function HistorySection(props: {
  fusions: readonly FusionSummary[] | null;
  error: string | null;
  currentId: string | null;
  onRefresh: () => void;
  onOpen: (fusion: FusionSummary) => void;
}) {
  const { fusions } = props;
  return (
    <Region id="history" title="History">
      <button type="button" class="secondary" onClick={props.onRefresh}>
        Refresh history
      </button>
      {props.error ? (
        <p class="notice" data-kind="error">
          {props.error}
        </p>
      ) : null}
      {fusions && fusions.length === 0 ? (
        <p class="muted">No fusions yet (they are kept for a while only).</p>
      ) : null}
      <ul class="history">
        {(fusions ?? []).map((f) => (
          <li key={f.id}>
            <a
              href={`#${f.id}`}
              class="history-item"
              aria-current={f.id === props.currentId ? "true" : undefined}
              onClick={(e) => {
                e.preventDefault();
                props.onOpen(f);
              }}
            >
              <span class="history-prompt">{f.prompt || f.id}</span>
              <span class="muted">
                {f.status} · {when(f.created)} · {f.models.length} models · {formatCost(f.cost)}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </Region>
  );
}
