import { afterEach, describe, expect, it } from "vitest";
import { type FixtureTree, manifest, writeFixtureTree } from "./fixture-tree.ts";
import { buildImportGraph, parseImports } from "./import-graph.ts";

describe("parseImports", () => {
  it("finds value, type-only and dynamic imports with their lines", () => {
    const source = [
      'import type { A } from "./a.ts";',
      'import { type B, c } from "./b.ts";',
      'import "./side.ts";',
      'import * as ns from "./ns.ts";',
      'export type { D } from "./d.ts";',
      'export * from "./e.ts";',
      'export { type F } from "./f.ts";',
      "export const local = 1;",
      'type G = import("./g.ts").G;',
      'const h = await import("./h.ts");',
      "const i = await import(`./i.ts`);",
      "const j = await import(process.env.J ?? '');",
    ].join("\n");
    expect(parseImports("x.ts", source)).toEqual([
      { specifier: "./a.ts", kind: "type", line: 1 },
      { specifier: "./b.ts", kind: "value", line: 2 },
      { specifier: "./side.ts", kind: "value", line: 3 },
      { specifier: "./ns.ts", kind: "value", line: 4 },
      { specifier: "./d.ts", kind: "type", line: 5 },
      { specifier: "./e.ts", kind: "value", line: 6 },
      { specifier: "./f.ts", kind: "type", line: 7 },
      { specifier: "./g.ts", kind: "type", line: 9 },
      { specifier: "./h.ts", kind: "dynamic", line: 10 },
      { specifier: "./i.ts", kind: "dynamic", line: 11 },
    ]);
  });

  it("throws on a file that does not parse", () => {
    expect(() => parseImports("x.ts", "import { from")).toThrow();
  });
});

describe("buildImportGraph", () => {
  let tree: FixtureTree | undefined;
  afterEach(() => tree?.remove());

  it("resolves relative files and workspace packages, and leaves npm packages out", () => {
    tree = writeFixtureTree({
      "package.json": manifest("root"),
      "packages/wire/package.json": manifest("@fusion/wire"),
      "packages/wire/src/index.ts": 'export * from "./chat.ts";\nexport * from "./usage";\n',
      "packages/wire/src/chat.ts": 'import { z } from "zod";\nexport const chat = z.string();\n',
      "packages/wire/src/usage.ts": 'import type { Folder } from "./folder";\nexport const usage = 1;\n',
      "packages/wire/src/folder/index.ts": "export type Folder = string;\n",
      "packages/wire/src/legacy.ts": 'export { chat } from "./chat.js";\n',
      "packages/app/package.json": manifest("@fusion/app"),
      "packages/app/src/index.ts": 'import { chat } from "@fusion/wire";\nimport "./missing.ts";\n',
      "packages/app/node_modules/dep/index.ts": 'import "../../nowhere.ts";\n',
      "packages/app/src/types.d.ts": 'import "./nowhere.ts";\n',
    });
    const graph = buildImportGraph(tree.root);
    expect(graph.files).toEqual([
      "packages/app/src/index.ts",
      "packages/wire/src/chat.ts",
      "packages/wire/src/folder/index.ts",
      "packages/wire/src/index.ts",
      "packages/wire/src/legacy.ts",
      "packages/wire/src/usage.ts",
    ]);
    expect(graph.edges.map(({ from, to, kind, viaPackage }) => ({ from, to, kind, viaPackage }))).toEqual([
      {
        from: "packages/app/src/index.ts",
        to: "packages/wire/src/index.ts",
        kind: "value",
        viaPackage: "@fusion/wire",
      },
      { from: "packages/app/src/index.ts", to: undefined, kind: "value", viaPackage: undefined },
      {
        from: "packages/wire/src/index.ts",
        to: "packages/wire/src/chat.ts",
        kind: "value",
        viaPackage: undefined,
      },
      {
        from: "packages/wire/src/index.ts",
        to: "packages/wire/src/usage.ts",
        kind: "value",
        viaPackage: undefined,
      },
      {
        from: "packages/wire/src/legacy.ts",
        to: "packages/wire/src/chat.ts",
        kind: "value",
        viaPackage: undefined,
      },
      {
        from: "packages/wire/src/usage.ts",
        to: "packages/wire/src/folder/index.ts",
        kind: "type",
        viaPackage: undefined,
      },
    ]);
    expect(graph.packages.map((pkg) => [pkg.name, pkg.dir, pkg.exports.get(".")])).toEqual([
      ["root", "", "src/index.ts"],
      ["@fusion/app", "packages/app", "packages/app/src/index.ts"],
      ["@fusion/wire", "packages/wire", "packages/wire/src/index.ts"],
    ]);
  });

  it("resolves subpath exports and reports an unknown subpath as unresolved", () => {
    tree = writeFixtureTree({
      "packages/lib/package.json": JSON.stringify({
        name: "@fusion/lib",
        exports: { ".": "./src/index.ts", "./extra": { import: "./src/extra.ts" } },
      }),
      "packages/lib/src/index.ts": "export const a = 1;\n",
      "packages/lib/src/extra.ts": "export const b = 1;\n",
      "packages/use/src/main.ts": 'import "@fusion/lib/extra";\nimport "@fusion/lib/nope";\n',
    });
    const { edges } = buildImportGraph(tree.root);
    expect(edges.map((edge) => [edge.specifier, edge.to])).toEqual([
      ["@fusion/lib/extra", "packages/lib/src/extra.ts"],
      ["@fusion/lib/nope", undefined],
    ]);
  });

  it("reads .tsx files (JSX) and resolves imports of them, with or without the extension", () => {
    tree = writeFixtureTree({
      "packages/page/src/main.tsx":
        'import { App } from "./app";\nimport "./card.jsx";\nimport { Icons } from "./icons";\nrender(<App />);\n',
      "packages/page/src/app.tsx":
        'import type { Chat } from "@fusion/wire";\nexport const App = () => <div />;\n',
      "packages/page/src/card.tsx": "export const Card = () => <p />;\n",
      "packages/page/src/icons/index.tsx": "export const Icons = () => <svg />;\n",
      "packages/wire/package.json": manifest("@fusion/wire"),
      "packages/wire/src/index.ts": "export type Chat = string;\n",
    });
    const graph = buildImportGraph(tree.root);
    expect(graph.parseErrors).toEqual([]);
    expect(graph.edges.map(({ from, to, kind }) => [from, to, kind])).toEqual([
      ["packages/page/src/app.tsx", "packages/wire/src/index.ts", "type"],
      ["packages/page/src/main.tsx", "packages/page/src/app.tsx", "value"],
      ["packages/page/src/main.tsx", "packages/page/src/card.tsx", "value"],
      ["packages/page/src/main.tsx", "packages/page/src/icons/index.tsx", "value"],
    ]);
  });

  it("lists a file that does not parse instead of failing", () => {
    tree = writeFixtureTree({ "src/bad.ts": "export const = ;\n", "src/good.ts": "export const ok = 1;\n" });
    const graph = buildImportGraph(tree.root);
    expect(graph.parseErrors).toHaveLength(1);
    expect(graph.parseErrors[0]).toMatch(/^src\/bad\.ts: /);
  });
});
