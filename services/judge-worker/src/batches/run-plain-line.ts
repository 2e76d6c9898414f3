import {
  failedLine,
  responseLine,
  type ResultKind,
  type ResultLine,
  type UpstreamIdentity,
} from "@fusion/intake";
import { httpError, type Upstream, UpstreamError } from "@fusion/llm-client";

/** Most bytes of an upstream answer a line keeps (a completion is far smaller). */
const ANSWER_CAP = 8 * 1024 * 1024;

/**
 * A plain line (no fusion): its body sent to the upstream's `/chat/completions` once, not streamed.
 * A 2xx JSON answer is the line's response; any other status is an error line with our error shape
 * (the upstream's message with its secrets redacted; an upstream 401 or 403 is a 502 naming it, as the
 * gateway's pass-through answers). No answer at all throws the `UpstreamError` (the job may retry it).
 */
export async function runPlainLine(
  upstream: Upstream,
  identity: UpstreamIdentity,
  line: { requestId: string; customId: string; model: string; body: Record<string, unknown> },
  signal: AbortSignal | undefined,
): Promise<{ kind: ResultKind; line: ResultLine }> {
  const { requestId, customId } = line;
  const res = await upstream.proxy("/chat/completions", JSON.stringify(line.body), signal ? { signal } : {});
  const text = await new Response(res.body).text();
  if (text.length > ANSWER_CAP)
    return failedLine(requestId, customId, 502, "the upstream's answer is too large");
  if (res.status >= 200 && res.status < 300) {
    try {
      return responseLine(requestId, customId, res.status, JSON.parse(text));
    } catch {
      return failedLine(requestId, customId, 502, "the upstream answered with a body that is not JSON");
    }
  }
  const name = identity.nameFor(line.model);
  const error = httpError(res.status, text, { suffix: ` (${name})`, secrets: identity.secrets });
  const refused = res.status === 401 || res.status === 403;
  const status = refused || res.status < 400 || res.status > 599 ? 502 : res.status;
  const message = refused ? `${name} refused the upstream credentials: ${error.message}` : error.message;
  return failedLine(requestId, customId, status, message);
}

/** Whether a failed call may be tried again by the line job (the upstream was not reached, or timed out). */
export function retryableCall(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError && err.retryable;
}
