import { describe, expect, it } from "vitest";
import { annotatedSources, mergeSources } from "./panel-sources.ts";

describe("annotatedSources", () => {
  it("reads url_citation annotations, nested or flat; an empty title is left out; others are ignored", () => {
    expect(
      annotatedSources([
        {
          type: "url_citation",
          url_citation: { url: "https://a.org/1", title: "A", start_index: 0, end_index: 0 },
        },
        { type: "url_citation", url_citation: { url: "https://a.org/2", title: "" } },
        { type: "url_citation", url: "https://a.org/3", title: "Flat" },
        { type: "file_citation", file_citation: { file_id: "f" } },
        { type: "url_citation", url_citation: { url: "javascript:alert(1)" } },
        "junk",
      ]),
    ).toEqual([
      { url: "https://a.org/1", title: "A" },
      { url: "https://a.org/2" },
      { url: "https://a.org/3", title: "Flat" },
    ]);
    expect(annotatedSources(undefined)).toEqual([]);
  });
});

describe("mergeSources", () => {
  it("keeps the first of each URL, in order, taking a title a later one has", () => {
    expect(
      mergeSources(
        [{ url: "https://a.org/1" }, { url: "https://a.org/2", title: "Two" }],
        [{ url: "https://a.org/1", title: "One" }],
      ),
    ).toEqual([
      { url: "https://a.org/1", title: "One" },
      { url: "https://a.org/2", title: "Two" },
    ]);
  });
});
