import { describe, expect, it } from "vitest";
import { citationsFor } from "./citations.ts";

describe("citationsFor", () => {
  it("gives the span of a URL the answer names", () => {
    const answer = "See https://example.org/a for details.";
    const [c] = citationsFor(answer, [{ url: "https://example.org/a", title: "A page" }]);
    expect(c).toEqual({
      type: "url_citation",
      url_citation: { url: "https://example.org/a", title: "A page", start_index: 4, end_index: 25 },
    });
    expect(answer.slice(c?.url_citation.start_index, c?.url_citation.end_index)).toBe(
      "https://example.org/a",
    );
  });

  // Issue 10: a source the answer does not cite is no annotation (it stays in `fusion.sources`);
  // before, it was an annotation without a span, which the OpenAI schema does not allow.
  it("falls back to the title's span, and gives no annotation when neither is found", () => {
    const answer = "As the Carbon Pricing Review shows, taxes work.";
    const out = citationsFor(answer, [
      { url: "https://x.org/none" },
      { url: "https://x.org/review", title: "Carbon Pricing Review" },
    ]);
    expect(out[0]?.url_citation).toMatchObject({
      url: "https://x.org/review",
      start_index: 7,
      end_index: 28,
    });
    expect(out.map((c) => c.url_citation.url)).toEqual(["https://x.org/review"]);
  });

  it("orders found spans by position; sources not cited are left out", () => {
    const sources = Array.from({ length: 30 }, (_, i) => ({ url: `https://s.org/${i}` }));
    const answer = "first https://s.org/7 then https://s.org/3";
    const out = citationsFor(answer, sources);
    expect(out).toHaveLength(2);
    expect(out.slice(0, 2).map((c) => c.url_citation.url)).toEqual(["https://s.org/7", "https://s.org/3"]);
  });

  it("does not match a short title anywhere it happens to occur", () => {
    const [c] = citationsFor("a b c", [{ url: "https://s.org/1", title: "a" }]);
    expect(c?.url_citation.start_index).toBeUndefined();
  });
});

describe("citationsFor: only what the answer cites", () => {
  it("annotates only the sources the answer cites, each with url, title, start_index and end_index", () => {
    const answer = "Carbon taxes work (https://a.org/tax). The Emissions Trading Review agrees.";
    const out = citationsFor(answer, [
      { url: "https://b.org/uncited", title: "Never named here" },
      { url: "https://c.org/review", title: "Emissions Trading Review" },
      { url: "https://a.org/tax" },
    ]);
    expect(out).toEqual([
      {
        type: "url_citation",
        url_citation: {
          url: "https://a.org/tax",
          title: "https://a.org/tax",
          start_index: 19,
          end_index: 36,
        },
      },
      {
        type: "url_citation",
        url_citation: {
          url: "https://c.org/review",
          title: "Emissions Trading Review",
          start_index: 43,
          end_index: 67,
        },
      },
    ]);
    for (const { url_citation: c } of out) {
      expect(Object.keys(c).sort()).toEqual(["end_index", "start_index", "title", "url"]);
    }
    expect(answer.slice(43, 67)).toBe("Emissions Trading Review");
  });

  it("cites a URL whole: not as the start of a longer one; without its trailing slash; before a full stop", () => {
    const answer = "See https://s.org/10 and https://s.org/docs. Also https://s.org/page.html";
    const out = citationsFor(answer, [
      { url: "https://s.org/1" },
      { url: "https://s.org/docs/" },
      { url: "https://s.org/page" },
    ]);
    expect(
      out.map((c) => [
        c.url_citation.url,
        answer.slice(c.url_citation.start_index, c.url_citation.end_index),
      ]),
    ).toEqual([["https://s.org/docs/", "https://s.org/docs"]]);
  });

  it("gives at most 20, in the order the answer cites them", () => {
    const sources = Array.from({ length: 30 }, (_, i) => ({ url: `https://s.org/${i}` }));
    const answer = sources
      .map((s) => s.url)
      .reverse()
      .join(" ");
    const out = citationsFor(answer, sources);
    expect(out.map((c) => c.url_citation.url)).toEqual(
      sources
        .map((s) => s.url)
        .reverse()
        .slice(0, 20),
    );
  });
});
