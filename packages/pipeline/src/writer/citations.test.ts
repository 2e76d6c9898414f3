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

  it("falls back to the title's span, and to no span when neither is found", () => {
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
    expect(out[1]?.url_citation).toEqual({ url: "https://x.org/none", title: "https://x.org/none" });
  });

  it("orders found spans by position, then the rest, at most 20", () => {
    const sources = Array.from({ length: 30 }, (_, i) => ({ url: `https://s.org/${i}` }));
    const answer = "first https://s.org/7 then https://s.org/3";
    const out = citationsFor(answer, sources);
    expect(out).toHaveLength(20);
    expect(out.slice(0, 2).map((c) => c.url_citation.url)).toEqual(["https://s.org/7", "https://s.org/3"]);
  });

  it("does not match a short title anywhere it happens to occur", () => {
    const [c] = citationsFor("a b c", [{ url: "https://s.org/1", title: "a" }]);
    expect(c?.url_citation.start_index).toBeUndefined();
  });
});
