import { describe, expect, it } from "vitest";
import { useSimulator } from "./test-support.ts";

const sim = useSimulator();

interface SearchBody {
  query: string;
  number_of_results: number;
  results: { url: string; title: string; content: string; engine: string; score: number }[];
}

describe("search", () => {
  it("answers SearXNG JSON with 8 deterministic results on its own pages", async () => {
    const res = await fetch(
      `${sim.url}/search?q=${encodeURIComponent("Fusion: how does it work?")}&format=json`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as SearchBody;
    expect(body.query).toBe("Fusion: how does it work?");
    expect(body.number_of_results).toBe(8);
    expect(body.results).toHaveLength(8);
    expect(body.results[0]).toMatchObject({
      url: `${sim.url}/pages/result-1-fusion-how-does-it-work`,
      engine: "sim",
      score: 1,
    });
    expect(new Set(body.results.map((r) => r.url)).size).toBe(8);
    const again = (await (
      await fetch(`${sim.url}/search?q=Fusion%3A%20how%20does%20it%20work%3F&format=json`)
    ).json()) as SearchBody;
    expect(again).toEqual(body);
  });

  it("limits the slug to 40 characters", async () => {
    const body = (await (
      await fetch(`${sim.url}/search?q=${"long words ".repeat(10)}&format=json`)
    ).json()) as SearchBody;
    const slug = body.results[0]?.url.split("/pages/result-1-")[1] ?? "";
    expect(slug.length).toBeLessThanOrEqual(40);
    expect(slug).toMatch(/^[a-z0-9-]+[a-z0-9]$/);
  });

  it("rejects a missing q or another format, and fails when told to", async () => {
    expect((await fetch(`${sim.url}/search?format=json`)).status).toBe(400);
    expect((await fetch(`${sim.url}/search?q=x&format=html`)).status).toBe(400);
    await sim.control.searchFails(true);
    expect((await fetch(`${sim.url}/search?q=x&format=json`)).status).toBe(500);
    await sim.control.searchFails(false);
    expect((await fetch(`${sim.url}/search?q=x&format=json`)).status).toBe(200);
  });
});

describe("pages", () => {
  it("serves HTML with noise around the article", async () => {
    const res = await fetch(`${sim.url}/pages/fusion-primer`);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    for (const noise of [
      "<title>Page fusion-primer</title>",
      "SCRIPT-NOISE",
      "NAV-NOISE",
      "HEADER-NOISE",
      "FOOTER-NOISE",
    ]) {
      expect(html).toContain(noise);
    }
    expect(html).toMatch(/<main>\s*<article>\s*<h1>/);
    expect(html).toContain("<p>The fusion-primer article explains fusion deliberation in detail.</p>");
    expect(await (await fetch(`${sim.url}/pages/fusion-primer`)).text()).toBe(html);
  });

  it("escapes the slug", async () => {
    const html = await (await fetch(`${sim.url}/pages/${encodeURIComponent("<b>")}`)).text();
    expect(html).toContain("Page &lt;b&gt;");
  });

  it("redirects", async () => {
    const res = await fetch(`${sim.url}/pages/redirect?to=${encodeURIComponent(`${sim.url}/pages/target`)}`, {
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${sim.url}/pages/target`);
    const followed = await fetch(`${sim.url}/pages/redirect?to=/pages/target`);
    expect(await followed.text()).toContain("Page target");
  });

  it("serves large, slow, plain and binary pages", async () => {
    const large = await (await fetch(`${sim.url}/pages/large`)).text();
    expect(large.length).toBeGreaterThan(2_500_000);
    expect(large.length).toBeLessThan(4_000_000);

    const started = Date.now();
    const slow = await fetch(`${sim.url}/pages/slow?ms=120`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(slow.status).toBe(200);

    const plain = await fetch(`${sim.url}/pages/plain`);
    expect(plain.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await plain.text()).not.toContain("<");

    const binary = await fetch(`${sim.url}/pages/binary`);
    expect(binary.headers.get("content-type")).toBe("application/octet-stream");
    expect((await binary.arrayBuffer()).byteLength).toBeGreaterThan(0);

    expect((await fetch(`${sim.url}/pages/status?code=404`)).status).toBe(404);
  });
});
