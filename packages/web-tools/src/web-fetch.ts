import type { Readable } from "node:stream";
import { request } from "undici";
import { raceAbort, withTimeout } from "./abort.ts";
import {
  decodeContent,
  decodeText,
  discard,
  parseContentType,
  readLimited,
  sniffHtmlCharset,
} from "./body.ts";
import type { ResolvedAddress, ResolvedWebToolsConfig } from "./config.ts";
import { extractTitle, htmlToReadableText, tidyText } from "./html-text.ts";
import { headerValue } from "./http-headers.ts";
import { createPinnedAgent } from "./pinned-agent.ts";
import { checkUrl, FetchRefusedError, HostResolutionError } from "./ssrf.ts";
import { errorMessage, ToolError } from "./tool-error.ts";

export interface WebFetchArgs {
  url: string;
  /** Cuts the text to `maxContentTokens * 4` characters when that is below `maxChars`. */
  maxContentTokens?: number;
}

export interface WebFetchResult {
  url: string;
  title: string;
  content: string;
  truncated: boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const HTML_TYPES = new Set(["text/html", "application/xhtml+xml"]);
const TEXT_APPLICATION_TYPES = new Set([
  "application/json",
  "application/ld+json",
  "application/xml",
  "application/rss+xml",
  "application/atom+xml",
]);

type ContentKind = "html" | "text" | "unknown" | "unsupported";

function contentKind(essence: string): ContentKind {
  if (essence === "") return "unknown";
  if (HTML_TYPES.has(essence)) return "html";
  if (essence.startsWith("text/") || TEXT_APPLICATION_TYPES.has(essence) || essence.endsWith("+json")) {
    return "text";
  }
  return "unsupported";
}

/** Without a Content-Type: HTML when it looks like HTML, text when it has no NUL bytes. */
function sniffKind(bytes: Buffer): "html" | "text" | "unsupported" {
  const head = bytes.subarray(0, 1024);
  if (head.includes(0)) return "unsupported";
  const start = head.toString("latin1").trimStart().toLowerCase();
  return start.startsWith("<!doctype html") || start.startsWith("<html") ? "html" : "text";
}

/** Cuts text to at most `limit` UTF-16 units without splitting a surrogate pair. */
function cutText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/**
 * Fetches a public http(s) URL and returns its readable text. Every hop (the URL and each redirect
 * target) is checked by `checkUrl` and connected through a pinned agent that only dials the checked
 * addresses. Throws FetchRefusedError, HostResolutionError or ToolError; rejects with the signal's
 * reason when `signal` aborts.
 */
export async function webFetch(
  args: WebFetchArgs,
  config: ResolvedWebToolsConfig,
  signal?: AbortSignal,
): Promise<WebFetchResult> {
  signal?.throwIfAborted();
  const { combined, timeout } = withTimeout(signal, config.fetchTimeoutMs);
  const pins = new Map<string, ResolvedAddress[]>();
  const agent = createPinnedAgent(pins);
  const state = { current: args.url };
  try {
    return await fetchAndRead(args, config, combined, pins, agent, state);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      throw new ToolError(`timed out after ${config.fetchTimeoutMs} ms fetching ${args.url}`);
    }
    if (
      error instanceof FetchRefusedError ||
      error instanceof HostResolutionError ||
      error instanceof ToolError
    ) {
      throw error;
    }
    throw new ToolError(`could not fetch ${state.current}: ${errorMessage(error)}`, { cause: error });
  } finally {
    // Closed before the call ends, so a worker's open connections never exceed its tool slots.
    await agent.destroy().catch(() => {});
  }
}

async function fetchAndRead(
  args: WebFetchArgs,
  config: ResolvedWebToolsConfig,
  signal: AbortSignal,
  pins: Map<string, ResolvedAddress[]>,
  agent: ReturnType<typeof createPinnedAgent>,
  state: { current: string },
): Promise<WebFetchResult> {
  let previous: string | undefined;
  for (let redirects = 0; ; redirects++) {
    let checked: Awaited<ReturnType<typeof checkUrl>>;
    try {
      checked = await raceAbort(
        checkUrl(state.current, { allowHosts: config.allowHosts, lookup: config.lookup }),
        signal,
      );
    } catch (error) {
      if (error instanceof FetchRefusedError && previous !== undefined) {
        throw new FetchRefusedError(error.code, error.url, `${error.reason} (redirected from ${previous})`);
      }
      throw error;
    }
    const url = checked.url.href;
    state.current = url;
    pins.set(checked.hostname.toLowerCase(), checked.addresses);

    const response = await request(checked.url, {
      method: "GET",
      dispatcher: agent,
      signal,
      headers: {
        "user-agent": config.userAgent,
        accept: "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.8,*/*;q=0.5",
        "accept-encoding": "gzip, deflate, br",
        "accept-language": "en-US,en;q=0.9,*;q=0.5",
      },
    });
    const body: Readable = response.body;
    const status = response.statusCode;
    const location = headerValue(response.headers, "location");

    if (REDIRECT_STATUSES.has(status) && location) {
      discard(body);
      if (redirects >= config.maxRedirects) {
        throw new ToolError(`too many redirects (more than ${config.maxRedirects}) fetching ${args.url}`);
      }
      let next: URL;
      try {
        next = new URL(location, checked.url);
      } catch {
        throw new ToolError(`invalid redirect location ${JSON.stringify(location)} from ${url}`);
      }
      previous = url;
      state.current = next.href;
      continue;
    }
    if (status < 200 || status >= 300) {
      discard(body);
      throw new ToolError(`HTTP ${status} from ${url}`);
    }

    const media = parseContentType(headerValue(response.headers, "content-type"));
    let kind = contentKind(media.essence);
    if (kind === "unsupported") {
      discard(body);
      throw new ToolError(`unsupported content type ${media.essence}`);
    }
    let decoded: Readable;
    try {
      decoded = decodeContent(body, headerValue(response.headers, "content-encoding"));
    } catch (error) {
      discard(body);
      throw new ToolError(`${errorMessage(error)} from ${url}`);
    }
    const { bytes, truncated: bytesTruncated } = await readLimited(decoded, config.maxBytes);
    discard(body);

    if (kind === "unknown") {
      kind = sniffKind(bytes);
      if (kind === "unsupported")
        throw new ToolError(`unsupported content type (none, binary body) from ${url}`);
    }
    let title = "";
    let text: string;
    if (kind === "html") {
      const html = decodeText(bytes, media.charset ?? sniffHtmlCharset(bytes));
      title = extractTitle(html);
      text = htmlToReadableText(html);
    } else {
      text = tidyText(decodeText(bytes, media.charset));
    }
    const limit =
      args.maxContentTokens !== undefined
        ? Math.min(config.maxChars, args.maxContentTokens * 4)
        : config.maxChars;
    const content = cutText(text, limit);
    return { url, title, content, truncated: bytesTruncated || content.length < text.length };
  }
}
