import { describe, expect, it } from "vitest";
import { safeHref } from "./safe-href.ts";

describe("safeHref", () => {
  it("lets http(s) URLs through and nothing else", () => {
    expect(safeHref("https://example.org/a?b=c")).toBe("https://example.org/a?b=c");
    expect(safeHref("http://127.0.0.1:9000/pages/x")).toBe("http://127.0.0.1:9000/pages/x");
    expect(safeHref("javascript:alert(1)")).toBeUndefined();
    expect(safeHref(" JavaScript:alert(1)")).toBeUndefined();
    expect(safeHref("data:text/html,<script>alert(1)</script>")).toBeUndefined();
    expect(safeHref("/relative")).toBeUndefined();
    expect(safeHref("not a url")).toBeUndefined();
  });
});
