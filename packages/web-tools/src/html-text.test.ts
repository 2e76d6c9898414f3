import { describe, expect, it } from "vitest";
import { extractTitle, htmlToReadableText, tidyText } from "./html-text.ts";

describe("htmlToReadableText", () => {
  it("keeps headings, lists, tables and code readable", () => {
    const text = htmlToReadableText(
      `<body><main><h2>Sub heading</h2><p>Para <a href="http://x.example/">link</a> and <b>bold</b>.</p>
      <ul><li>one</li><li>two</li></ul>
      <table><tr><th>Name</th><th>Value</th></tr><tr><td>alpha</td><td>1</td></tr></table>
      <pre>code\n  block</pre></main></body>`,
    );
    expect(text).toContain("Sub heading\n\nPara link and bold.");
    expect(text).toContain(" * one\n * two");
    expect(text).toMatch(/Name\s+Value\nalpha\s+1/);
    expect(text).toContain("code\n  block");
    expect(text).not.toContain("x.example");
  });

  it("skips hidden elements", () => {
    expect(htmlToReadableText('<p>shown</p><div hidden>gone</div><span aria-hidden="true">icon</span>')).toBe(
      "shown",
    );
  });
});

describe("extractTitle", () => {
  it("decodes entities and collapses whitespace", () => {
    expect(extractTitle("<head><title>\n  A &amp; B &#8211; C\n</title></head>")).toBe("A & B – C");
    expect(extractTitle("<p>no title</p>")).toBe("");
  });
});

describe("tidyText", () => {
  it("collapses blank lines and trims line ends", () => {
    expect(tidyText("a  \r\n\r\n\r\n\r\nb\t\n\n\n")).toBe("a\n\nb");
  });
});
