import { type Upstream, UpstreamError } from "@fusion/llm-client";
import { FUSION_DEPTH_HEADER, FusionError } from "@fusion/wire";
import { proxiedErrorResponse } from "./proxied-error.ts";
import type { UpstreamIdentity } from "@fusion/intake";

/** Upstream response headers a proxied answer keeps. */
const KEPT_HEADERS = ["content-type", "retry-after", "cache-control"];

export interface ProxyOptions {
  /** Fusion depth of the request (≥ 1 inside a fusion), passed on so the upstream gateway sees it. */
  depth: number;
  /** Aborts the upstream call when the client goes away. */
  signal: AbortSignal;
  /** The request's model: names the upstream in an error. */
  model: string;
  /** Names the upstream and holds the secrets an upstream error must not quote. */
  identity: UpstreamIdentity;
}

/**
 * A request that is not a fusion, passed to the upstream's `/chat/completions`. A 2xx answer is returned
 * as it comes (status, body streamed byte for byte); any other becomes our error shape, its secrets
 * redacted (`proxiedErrorResponse`). A call that fails before an answer is a 502 (408 for a timeout).
 */
export async function proxyRequest(
  upstream: Upstream,
  body: string,
  options: ProxyOptions,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.depth > 0) headers[FUSION_DEPTH_HEADER] = String(options.depth);
  try {
    const res = await upstream.proxy("/chat/completions", body, { signal: options.signal, headers });
    if (res.status < 200 || res.status > 299) {
      return await proxiedErrorResponse(res, options.identity, options.model);
    }
    const out = new Headers();
    for (const name of KEPT_HEADERS) {
      const v = res.headers[name];
      if (v) out.set(name, v);
    }
    return new Response(res.body, { status: res.status, headers: out });
  } catch (err) {
    if (err instanceof UpstreamError) {
      const code = err.kind === "timeout" ? "timeout" : "upstream_error";
      throw new FusionError(code, `upstream request failed: ${err.message}`);
    }
    throw err;
  }
}
