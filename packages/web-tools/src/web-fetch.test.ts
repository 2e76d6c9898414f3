import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LookupFn } from "./config.ts";
import { startTestServer, type TestServer } from "./test-server.ts";
import { createWebTools, type ToolExecution } from "./web-tools.ts";

const ARTICLE = `<!doctype html>
<html><head>
<title>The &amp; Article</title>
<style>.noise { color: red } STYLE_NOISE</style>
<script>var tracking = "SCRIPT_NOISE";</script>
</head>
<body>
<header><h1>SITE_HEADER</h1></header>
<nav><ul><li><a href="/home">NAV_LINK</a></li></ul></nav>
<main><article>
<h1>Main Heading</h1>
<p>First paragraph with a <a href="https://example.com/ref">reference link</a>.</p>
<img src="/photo.png" alt="IMG_ALT">



<p>Second paragraph.</p>
<svg><text>SVG_NOISE</text></svg>
<iframe src="/ad">IFRAME_NOISE</iframe>
</article></main>
<aside>ASIDE_NOISE</aside>
<form><label>FORM_NOISE</label><input name="q"></form>
<noscript>NOSCRIPT_NOISE</noscript>
<footer>FOOTER_NOISE</footer>
<script>document.write("SCRIPT_NOISE_2")</script>
</body></html>`;

const NOISE = [
  "STYLE_NOISE",
  "SCRIPT_NOISE",
  "SITE_HEADER",
  "NAV_LINK",
  "IMG_ALT",
  "SVG_NOISE",
  "IFRAME_NOISE",
  "ASIDE_NOISE",
  "FORM_NOISE",
  "NOSCRIPT_NOISE",
  "FOOTER_NOISE",
  "example.com/ref",
  "photo.png",
];

function parse(execution: ToolExecution): Record<string, unknown> {
  return JSON.parse(execution.content) as Record<string, unknown>;
}

function expectError(execution: ToolExecution, pattern: RegExp): void {
  expect(execution.ok).toBe(false);
  const content = parse(execution);
  expect(Object.keys(content)).toEqual(["error"]);
  expect(content.error).toMatch(pattern);
  expect(execution.error).toBe(content.error);
  expect(execution.urls).toEqual([]);
}

let server: TestServer;
let allowed: string;

beforeAll(async () => {
  server = await startTestServer({
    "/article": (_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(ARTICLE);
    },
    "/plain": (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("just text\r\nsecond line\n");
    },
    "/json": (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"answer":42}');
    },
    "/long": (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("abcdefghij".repeat(1000));
    },
    "/big": (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = "x".repeat(64 * 1024);
      let sent = 0;
      const write = () => {
        while (sent < 64) {
          sent += 1;
          if (!res.write(chunk)) {
            res.once("drain", write);
            return;
          }
        }
        res.end();
      };
      write();
    },
    "/gzip": (_req, res) => {
      res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip" });
      res.end(gzipSync("<html><head><title>Zipped</title></head><body><p>compressed body</p></body></html>"));
    },
    "/latin1": (_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        Buffer.from(
          '<html><head><meta charset="iso-8859-1"><title>Caf\u00e9</title></head><body>na\u00efve</body></html>',
          "latin1",
        ),
      );
    },
    "/untyped": (_req, res) => {
      res.writeHead(200);
      res.end("<!DOCTYPE html><html><head><title>Sniffed</title></head><body><p>no header</p></body></html>");
    },
    "/pdf": (_req, res) => {
      res.writeHead(200, { "content-type": "application/pdf" });
      res.end("%PDF-1.4");
    },
    "/missing": (_req, res) => {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<p>nope</p>");
    },
    "/r1": (_req, res) => {
      res.writeHead(301, { location: "/r2" });
      res.end();
    },
    "/r2": (_req, res, s) => {
      res.writeHead(302, { location: `http://127.0.0.1:${s.port}/r3?x=1` });
      res.end();
    },
    "/r3": (_req, res) => {
      res.writeHead(307, { location: "article" });
      res.end();
    },
    "/loop": (_req, res) => {
      res.writeHead(302, { location: "/loop" });
      res.end();
    },
    "/to-metadata": (_req, res) => {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
      res.end();
    },
    "/to-localhost": (_req, res, s) => {
      res.writeHead(302, { location: `http://localhost:${s.port}/article` });
      res.end();
    },
    "/to-private-name": (_req, res, s) => {
      res.writeHead(302, { location: `http://evil.test:${s.port}/article` });
      res.end();
    },
    "/to-file": (_req, res) => {
      res.writeHead(302, { location: "file:///etc/passwd" });
      res.end();
    },
    "/slow": (_req, res) => {
      const timer = setTimeout(() => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("late");
      }, 3000);
      res.on("close", () => clearTimeout(timer));
    },
  });
  allowed = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
});

/** Names for tests: everything but loopback is fake. */
const fakeLookup: LookupFn = async (hostname) => {
  switch (hostname) {
    case "loopback.test":
    case "evil.test":
    case "localhost":
      return [{ address: "127.0.0.1", family: 4 }];
    case "internal.test":
      return [{ address: "10.1.2.3", family: 4 }];
    case "mixed.test":
      return [
        { address: "93.184.216.34", family: 4 },
        { address: "10.9.8.7", family: 4 },
      ];
    default:
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
  }
};

function tools(extra: Parameters<typeof createWebTools>[0] = {}) {
  return createWebTools({ allowHosts: [allowed], lookup: fakeLookup, ...extra });
}

async function fetchUrl(url: string, extra: Parameters<typeof createWebTools>[0] = {}, args = {}) {
  return tools(extra).execute("web_fetch", JSON.stringify({ url, ...args }));
}

describe("web_fetch content", () => {
  it("turns an HTML page into readable text without the page furniture", async () => {
    const result = await fetchUrl(`${server.origin}/article`);
    expect(result.ok).toBe(true);
    const content = parse(result);
    expect(Object.keys(content)).toEqual(["url", "title", "content", "truncated"]);
    expect(content.url).toBe(`${server.origin}/article`);
    expect(content.title).toBe("The & Article");
    expect(content.truncated).toBe(false);
    const text = String(content.content);
    expect(text).toContain("Main Heading");
    expect(text).toContain("First paragraph with a reference link.");
    expect(text).toContain("Second paragraph.");
    for (const noise of NOISE) expect(text).not.toContain(noise);
    expect(text).not.toMatch(/\n\s*\n\s*\n/);
    expect(result.urls).toEqual([{ url: `${server.origin}/article`, title: "The & Article" }]);
  });

  it("returns text/plain and JSON as text", async () => {
    const plain = await fetchUrl(`${server.origin}/plain`);
    expect(parse(plain)).toEqual({
      url: `${server.origin}/plain`,
      title: "",
      content: "just text\nsecond line",
      truncated: false,
    });
    expect(plain.urls).toEqual([{ url: `${server.origin}/plain` }]);
    const json = await fetchUrl(`${server.origin}/json`);
    expect(parse(json).content).toBe('{"answer":42}');
  });

  it("cuts the text to max_content_tokens * 4 characters", async () => {
    const result = await fetchUrl(`${server.origin}/long`, {}, { max_content_tokens: 10 });
    expect(parse(result)).toMatchObject({ content: "abcdefghij".repeat(4), truncated: true });
  });

  it("cuts the text to maxChars", async () => {
    const result = await fetchUrl(`${server.origin}/long`, { maxChars: 25 }, { max_content_tokens: 1000 });
    expect(parse(result)).toMatchObject({ content: "abcdefghijabcdefghijabcde", truncated: true });
  });

  it("stops reading the body at maxBytes", async () => {
    const result = await fetchUrl(`${server.origin}/big`, { maxBytes: 100_000, maxChars: 1_000_000 });
    const content = parse(result);
    expect(content.truncated).toBe(true);
    expect(String(content.content)).toHaveLength(100_000);
  });

  it("decodes gzip bodies", async () => {
    const result = await fetchUrl(`${server.origin}/gzip`);
    expect(parse(result)).toMatchObject({ title: "Zipped", content: "compressed body" });
  });

  it("honours a <meta charset>", async () => {
    const result = await fetchUrl(`${server.origin}/latin1`);
    expect(parse(result)).toMatchObject({ title: "Café", content: "naïve" });
  });

  it("sniffs HTML without a Content-Type", async () => {
    const result = await fetchUrl(`${server.origin}/untyped`);
    expect(parse(result)).toMatchObject({ title: "Sniffed", content: "no header" });
  });

  it("refuses unsupported content types", async () => {
    expectError(await fetchUrl(`${server.origin}/pdf`), /^unsupported content type application\/pdf$/);
  });

  it("reports a non-2xx status", async () => {
    expectError(
      await fetchUrl(`${server.origin}/missing`),
      /^HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/missing$/,
    );
  });

  it("follows a redirect chain and reports the final URL", async () => {
    const result = await fetchUrl(`${server.origin}/r1`);
    expect(result.ok).toBe(true);
    expect(parse(result).url).toBe(`${server.origin}/article`);
    expect(result.urls[0]?.url).toBe(`${server.origin}/article`);
  });

  it("gives up after maxRedirects", async () => {
    expectError(
      await fetchUrl(`${server.origin}/loop`, { maxRedirects: 3 }),
      /too many redirects \(more than 3\)/,
    );
  });

  it("times out", async () => {
    const started = Date.now();
    expectError(await fetchUrl(`${server.origin}/slow`, { fetchTimeoutMs: 300 }), /^timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("reports a connection failure", async () => {
    const closed = await startTestServer({});
    const port = closed.port;
    await closed.close();
    expectError(
      await fetchUrl(`http://127.0.0.1:${port}/`, { allowHosts: [`127.0.0.1:${port}`] }),
      /^could not fetch http:\/\/127\.0\.0\.1:\d+\/: .*ECONNREFUSED/,
    );
  });

  it("reports a name that does not resolve", async () => {
    expectError(await fetchUrl("http://nowhere.test/"), /^could not resolve host nowhere\.test$/);
  });

  it("treats a URL without a scheme as https", async () => {
    expectError(await fetchUrl("internal.test/page"), /^refused to fetch https:\/\/internal\.test\/page:/);
  });
});

describe("web_fetch allowHosts", () => {
  it("lets a named loopback host through by host:port", async () => {
    const result = await fetchUrl(`http://loopback.test:${server.port}/article`, {
      allowHosts: [`loopback.test:${server.port}`],
    });
    expect(result.ok).toBe(true);
    expect(parse(result).title).toBe("The & Article");
  });

  it("lets localhost through by name with the system resolver", async () => {
    const result = await createWebTools({ allowHosts: ["localhost"] }).execute(
      "web_fetch",
      JSON.stringify({ url: `http://localhost:${server.port}/plain` }),
    );
    expect(result.ok).toBe(true);
    expect(parse(result).content).toBe("just text\nsecond line");
  });

  it("does not let another port of an allowed host through", async () => {
    expectError(
      await fetchUrl(`${server.origin}/article`, { allowHosts: ["127.0.0.1:1"] }),
      /^refused to fetch .*: 127\.0\.0\.1 is a loopback address$/,
    );
  });
});

describe("web_fetch SSRF guard", () => {
  const vectors = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://localhost./",
    "http://sub.localhost/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[2002:7f00:1::1]/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://internal.test/",
    "http://mixed.test/",
    "file:///etc/passwd",
    "ftp://example.com/",
    "gopher://x/",
    "data:text/plain,hi",
    "javascript:alert(1)",
    "http://user:pw@example.com/",
    "http://user@example.com/",
  ];

  it.each(vectors)("refuses %s", async (url) => {
    expectError(await fetchUrl(url), /^refused to fetch .+: .+/);
  });

  it("normalises the numeric IPv4 spellings to 127.0.0.1 before checking", () => {
    for (const url of ["http://2130706433/", "http://0177.0.0.1/", "http://0x7f.0.0.1/", "http://127.1/"]) {
      expect(new URL(url).hostname).toBe("127.0.0.1");
    }
    expect(new URL("http://017700000001/").hostname).toBe("127.0.0.1");
  });

  it("explains the refusal", async () => {
    expectError(
      await fetchUrl("http://internal.test/"),
      /^refused to fetch http:\/\/internal\.test\/: internal\.test resolves to a private address$/,
    );
    expectError(
      await fetchUrl("file:///etc/passwd"),
      /^refused to fetch file:\/\/\/etc\/passwd: scheme not allowed/,
    );
    expectError(
      await fetchUrl("http://169.254.169.254/latest/meta-data/"),
      /: 169\.254\.169\.254 is a link-local address$/,
    );
  });

  it("never connects for a refused URL", async () => {
    const before = server.connections;
    const requests = server.requests.length;
    for (const url of [
      `http://evil.test:${server.port}/article`,
      `http://localhost:${server.port}/article`,
      `http://127.0.0.1:${server.port}/article`,
      `http://[::ffff:127.0.0.1]:${server.port}/article`,
    ]) {
      expectError(await fetchUrl(url, { allowHosts: [] }), /^refused to fetch /);
    }
    expect(server.connections).toBe(before);
    expect(server.requests.length).toBe(requests);
  });

  it.each([
    [
      "/to-metadata",
      /refused to fetch http:\/\/169\.254\.169\.254\/latest\/meta-data\/: .*link-local.*redirected from/,
    ],
    [
      "/to-localhost",
      /refused to fetch http:\/\/localhost:\d+\/article: localhost is a local or internal host name/,
    ],
    [
      "/to-private-name",
      /refused to fetch http:\/\/evil\.test:\d+\/article: evil\.test resolves to a loopback address/,
    ],
    ["/to-file", /refused to fetch file:\/\/\/etc\/passwd: scheme not allowed/],
  ])("re-checks a redirect hop (%s)", async (path, pattern) => {
    const requests = server.requests.length;
    expectError(await fetchUrl(`${server.origin}${path}`), pattern);
    // only the redirecting request reached the server, not the target
    expect(server.requests.slice(requests)).toEqual([path]);
  });

  it("connects only to the checked address (no DNS rebinding)", async () => {
    let calls = 0;
    const rebinding: LookupFn = async () => {
      calls += 1;
      return calls === 1 ? [{ address: "192.0.0.170", family: 4 }] : [{ address: "127.0.0.1", family: 4 }];
    };
    // 192.0.0.170 is reserved: refused without a connection
    expectError(
      await fetchUrl(`http://rebind.test:${server.port}/article`, { lookup: rebinding }),
      /reserved address/,
    );
    // allowed host: the first answer is 127.0.0.1, a second resolution would give an unroutable address
    calls = 0;
    const loopbackThenElsewhere: LookupFn = async () => {
      calls += 1;
      return calls === 1 ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "192.0.2.1", family: 4 }];
    };
    const result = await fetchUrl(`http://rebind.test:${server.port}/article`, {
      allowHosts: [`rebind.test:${server.port}`],
      lookup: loopbackThenElsewhere,
      fetchTimeoutMs: 2000,
    });
    expect(result.ok).toBe(true);
    expect(calls).toBe(1);
  });
});
