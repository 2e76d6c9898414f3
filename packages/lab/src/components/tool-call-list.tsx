import { formatMs } from "../format.ts";
import { safeHref } from "../markdown/safe-href.ts";
import type { ToolCallView } from "../state/view-state.ts";

function Target(props: { call: ToolCallView }) {
  const { call } = props;
  if (call.query !== undefined) return <q>{call.query}</q>;
  if (call.url === undefined) return null;
  const href = safeHref(call.url);
  return href ? (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {call.url}
    </a>
  ) : (
    <span>{call.url}</span>
  );
}

/** A stage's tool calls as they happen: the tool, its query or URL, then its latency or failure. */
export function ToolCallList(props: { id: string; calls: readonly ToolCallView[]; ended: boolean }) {
  const headingId = `${props.id}-tools`;
  return (
    <div class="tool-calls">
      <h4 id={headingId}>Tool calls</h4>
      {props.calls.length === 0 ? <p class="muted">{props.ended ? "None." : "None yet."}</p> : null}
      <ul aria-labelledby={headingId}>
        {props.calls.map((call, i) => (
          <li key={i} class={call.error ? "failed" : undefined}>
            <span class="tool-name">{call.tool}</span> <Target call={call} />{" "}
            <span class="muted">
              {call.error
                ? `failed: ${call.error}`
                : call.endMs === undefined
                  ? "running…"
                  : formatMs(call.latencyMs ?? call.endMs - call.startMs)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
