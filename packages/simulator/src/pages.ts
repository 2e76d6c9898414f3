import type { Context } from "hono";
import { sleep } from "./sleep.ts";

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** The paragraphs of a page's article: the text an extractor should keep. */
function articleParagraphs(slug: string): string[] {
  return [
    `The ${slug} article explains fusion deliberation in detail.`,
    "A panel of models answers the same question in parallel, each with its own web research.",
    "A judge then compares the answers: where they agree, where they contradict each other, and what each one alone noticed.",
    "The calling model reads that comparison and writes the final answer in its own words.",
  ];
}

/** A deterministic HTML document whose head, nav, header and footer are noise an extractor must drop. */
function pageHtml(slug: string, extraParagraphs: string[] = []): string {
  const s = escapeHtml(slug);
  const paragraphs = [...articleParagraphs(slug), ...extraParagraphs]
    .map((p) => `      <p>${escapeHtml(p)}</p>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Page ${s}</title>
  <style>body { font-family: sans-serif; } .STYLE-NOISE { color: red; }</style>
  <script>var secret = "SCRIPT-NOISE";</script>
</head>
<body>
  <nav>NAV-NOISE <a href="/pages/home">Home</a> <a href="/pages/about">About</a></nav>
  <header>HEADER-NOISE</header>
  <main>
    <article>
      <h1>About ${s}</h1>
${paragraphs}
    </article>
  </main>
  <footer>FOOTER-NOISE &copy; Simulator</footer>
</body>
</html>
`;
}

let largePage: string | undefined;

/** About 3 MB of HTML. */
function largePageHtml(): string {
  if (largePage === undefined) {
    const paragraph = "This paragraph repeats to make the page large. ".repeat(20).trim();
    largePage = pageHtml(
      "large",
      Array.from({ length: 3200 }, (_, i) => `${i + 1}. ${paragraph}`),
    );
  }
  return largePage;
}

const HTML = { "content-type": "text/html; charset=utf-8" };

/** `GET /pages/:slug` and its special slugs. */
export async function handlePage(c: Context): Promise<Response> {
  const slug = c.req.param("slug") ?? "";
  switch (slug) {
    case "redirect": {
      const to = c.req.query("to");
      if (!to) return c.text("missing to", 400);
      return new Response(null, { status: 302, headers: { location: to } });
    }
    case "large":
      return new Response(largePageHtml(), { headers: HTML });
    case "slow": {
      const ms = Number(c.req.query("ms") ?? "1000");
      await sleep(Number.isFinite(ms) ? ms : 1000, c.req.raw.signal);
      return new Response(pageHtml("slow"), { headers: HTML });
    }
    case "plain":
      return new Response(`${articleParagraphs("plain").join("\n\n")}\n`, {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    case "binary":
      return new Response(new Uint8Array(Array.from({ length: 1024 }, (_, i) => (i * 37) % 256)), {
        headers: { "content-type": "application/octet-stream" },
      });
    case "status": {
      const code = Number(c.req.query("code") ?? "404");
      const status = Number.isInteger(code) && code >= 200 && code <= 599 ? code : 404;
      return new Response(pageHtml(`status-${status}`), { status, headers: HTML });
    }
    default:
      return new Response(pageHtml(slug), { headers: HTML });
  }
}
