import { afterEach, describe, expect, it } from "vitest";
import { checkWorkspace, hasProblems } from "./check-workspace.ts";
import { type FixtureTree, manifest, writeFixtureTree } from "./fixture-tree.ts";

const packages = ["wire", "llm-client", "pipeline", "runtime", "web-tools", "simulator", "testing"];
const services = ["gateway", "panel-worker", "judge-worker"];

/** A workspace with every fusion package (each with an empty src/index.ts), plus the given files. */
function workspace(files: Record<string, string>): Record<string, string> {
  const tree: Record<string, string> = { "package.json": manifest("fusion") };
  for (const name of packages) {
    tree[`packages/${name}/package.json`] = manifest(`@fusion/${name}`);
    tree[`packages/${name}/src/index.ts`] = "export {};\n";
  }
  for (const name of services) {
    tree[`services/${name}/package.json`] = JSON.stringify({ name: `@fusion/${name}`, private: true });
    tree[`services/${name}/src/main.ts`] = "export {};\n";
  }
  tree["test/package.json"] = JSON.stringify({ name: "@fusion/e2e" });
  tree["bench/package.json"] = JSON.stringify({ name: "@fusion/bench" });
  return { ...tree, ...files };
}

describe("checkWorkspace", () => {
  let tree: FixtureTree | undefined;
  afterEach(() => tree?.remove());
  const check = (files: Record<string, string>) => {
    tree = writeFixtureTree(workspace(files));
    return checkWorkspace(tree.root);
  };

  it("passes imports that go down the layers", () => {
    const findings = check({
      "packages/llm-client/src/client.ts": 'import type { Chat } from "@fusion/wire";\n',
      "packages/pipeline/src/stage.ts": 'import "@fusion/wire";\nimport "@fusion/llm-client";\n',
      "packages/runtime/src/redis.ts": 'import "@fusion/llm-client";\n',
      "packages/web-tools/src/fetch.ts": 'import "@fusion/llm-client";\n',
      "packages/simulator/src/app.ts": 'import "@fusion/wire";\n',
      "services/gateway/src/app.ts":
        'import "@fusion/pipeline";\nimport "@fusion/runtime";\nimport "./routes.ts";\n',
      "services/gateway/src/routes.ts": 'import "@fusion/web-tools";\n',
      "test/api.test.ts":
        'import "@fusion/simulator";\nimport "@fusion/testing";\nimport "./support/sse.ts";\n',
      "test/support/sse.ts": 'import "@fusion/testing";\n',
      "bench/run.ts": 'import "@fusion/simulator";\nimport "@fusion/runtime";\n',
      "scripts/start.ts": 'import "./lib/supervisor.ts";\n',
      "scripts/lib/supervisor.ts": "export {};\n",
    });
    expect(findings).toMatchObject({ unresolved: [], cycles: [], layers: [], parseErrors: [] });
    expect(hasProblems(findings)).toBe(false);
  });

  it("fails an import sideways or up, type-only ones included", () => {
    const findings = check({
      "packages/runtime/src/flows.ts": 'import { stage } from "@fusion/pipeline";\n',
      "packages/pipeline/src/stage.ts": '\nimport type { Redis } from "@fusion/runtime";\n',
      "packages/wire/src/chat.ts": 'export type { Client } from "@fusion/llm-client";\n',
      "packages/testing/src/stack.ts": 'const sim = await import("@fusion/simulator");\n',
      "services/gateway/src/app.ts": 'import "@fusion/testing";\n',
    });
    expect(findings.layers).toEqual([
      "packages/pipeline/src/stage.ts:2: @fusion/pipeline imports types from @fusion/runtime; it may import @fusion/wire, @fusion/llm-client",
      "packages/runtime/src/flows.ts:1: @fusion/runtime imports @fusion/pipeline; it may import @fusion/wire, @fusion/llm-client",
      "packages/testing/src/stack.ts:1: @fusion/testing loads @fusion/simulator; it may import no workspace package",
      "packages/wire/src/chat.ts:1: @fusion/wire imports types from @fusion/llm-client; it may import no workspace package",
      expect.stringMatching(
        /^services\/gateway\/src\/app\.ts:1: @fusion\/gateway imports @fusion\/testing; it may/,
      ),
    ]);
    expect(hasProblems(findings)).toBe(true);
  });

  it("lets tests, and helpers only tests use, import the testing packages", () => {
    const findings = check({
      "packages/runtime/src/redis.test.ts": 'import "@fusion/testing";\nimport "./redis-fixture.ts";\n',
      "packages/runtime/src/redis-fixture.ts": 'import "@fusion/simulator";\nimport "./shared.ts";\n',
      "packages/runtime/src/shared.ts": 'import "@fusion/testing";\n',
      "packages/runtime/src/index.ts": 'export * from "./shared.ts";\n',
      "packages/runtime/src/other.test.ts": 'import "@fusion/pipeline";\n',
    });
    expect(findings.layers).toEqual([
      "packages/runtime/src/other.test.ts:1: @fusion/runtime (test code) imports @fusion/pipeline; it may import @fusion/wire, @fusion/llm-client, and as test code @fusion/testing, @fusion/simulator",
      "packages/runtime/src/shared.ts:1: @fusion/runtime imports @fusion/testing; it may import @fusion/wire, @fusion/llm-client",
    ]);
  });

  it("fails a service importing another service, and a reach into a package by relative path", () => {
    const findings = check({
      "services/gateway/src/app.ts":
        'import "@fusion/judge-worker";\nimport "../../panel-worker/src/main.ts";\n',
      "test/api.test.ts": 'import "../packages/wire/src/index.ts";\n',
    });
    expect(findings.layers).toEqual([
      expect.stringMatching(
        /^services\/gateway\/src\/app\.ts:1: @fusion\/gateway imports @fusion\/judge-worker; /,
      ),
      'services/gateway/src/app.ts:2: "../../panel-worker/src/main.ts" reaches into services/panel-worker by relative path; import @fusion/panel-worker',
      expect.stringMatching(
        /^services\/gateway\/src\/app\.ts:2: @fusion\/gateway imports @fusion\/panel-worker; /,
      ),
      'test/api.test.ts:1: "../packages/wire/src/index.ts" reaches into packages/wire by relative path; import @fusion/wire',
    ]);
  });

  it("fails a package that has no layer rule", () => {
    const findings = check({ "packages/extra/package.json": manifest("@fusion/extra") });
    expect(findings.layers).toEqual([
      "packages/extra: package @fusion/extra has no layer rule (scripts/lib/layer-rules.ts)",
    ]);
  });

  it("reports cycles, type-only and through a package's own index, and imports that do not resolve", () => {
    const findings = check({
      "packages/wire/src/index.ts": 'export * from "./chat.ts";\n',
      "packages/wire/src/chat.ts": 'import type { Usage } from "@fusion/wire";\nexport type Chat = Usage;\n',
      "packages/pipeline/src/a.ts": 'import type { B } from "./b.ts";\nexport type A = B;\n',
      "packages/pipeline/src/b.ts": 'import "./missing.ts";\nexport type { A as B } from "./a.ts";\n',
    });
    expect(findings.cycles).toEqual([
      "packages/pipeline/src/a.ts → packages/pipeline/src/b.ts → packages/pipeline/src/a.ts",
      "packages/wire/src/chat.ts → packages/wire/src/index.ts → packages/wire/src/chat.ts",
    ]);
    expect(findings.unresolved).toEqual(['packages/pipeline/src/b.ts:1: cannot resolve "./missing.ts"']);
    expect(findings.layers).toEqual([]);
  });
});
