import type { ImportEdge } from "./import-graph.ts";
import { packageOf, type WorkspacePackage } from "./workspace-files.ts";

/** Which workspace packages each package's code may import; its tests may also import `testImports`. */
export interface LayerPolicy {
  packages: Readonly<Record<string, readonly string[]>>;
  testImports: readonly string[];
}

const libraries = [
  "@fusion/wire",
  "@fusion/llm-client",
  "@fusion/pipeline",
  "@fusion/runtime",
  "@fusion/web-tools",
  "@fusion/intake",
  "@fusion/simulator",
  "@fusion/testing",
  "@fusion/lab",
];
const serviceImports = [
  "@fusion/wire",
  "@fusion/llm-client",
  "@fusion/pipeline",
  "@fusion/runtime",
  "@fusion/web-tools",
];

/** What starts work (classify, enqueue, batches): above pipeline and runtime, below the services that start it. */
const intakeImports = ["@fusion/wire", "@fusion/llm-client", "@fusion/pipeline", "@fusion/runtime"];

/**
 * The layers of issue 9: wire < llm-client < pipeline, runtime (beside each other) < services; the leaf
 * utilities sit where their imports put them; e2e tests, bench and scripts are on top. Nothing imports a
 * service.
 */
export const fusionLayers: LayerPolicy = {
  packages: {
    "@fusion/wire": [],
    "@fusion/llm-client": ["@fusion/wire"],
    "@fusion/pipeline": ["@fusion/wire", "@fusion/llm-client"],
    "@fusion/runtime": ["@fusion/wire", "@fusion/llm-client"],
    "@fusion/web-tools": ["@fusion/wire", "@fusion/llm-client"],
    "@fusion/intake": intakeImports,
    "@fusion/simulator": ["@fusion/wire"],
    "@fusion/testing": [],
    // The page's code uses wire's types; the gateway takes only where its build is (`labDistDir`).
    "@fusion/lab": ["@fusion/wire"],
    "@fusion/gateway": [...serviceImports, "@fusion/intake", "@fusion/lab"],
    "@fusion/panel-worker": serviceImports,
    "@fusion/judge-worker": [...serviceImports, "@fusion/intake"],
    "@fusion/e2e": libraries,
    "@fusion/bench": libraries,
    fusion: libraries,
  },
  testImports: ["@fusion/testing", "@fusion/simulator"],
};

/**
 * The test code among the files: every `*.test.ts`, and every other file that only test code imports
 * (a fixture or helper beside the tests), so a helper obeys the same rule as the tests that use it.
 */
export function testCodeFiles(files: readonly string[], edges: readonly ImportEdge[]): Set<string> {
  const testCode = new Set(files.filter((file) => file.endsWith(".test.ts")));
  const importers = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (to !== undefined && to !== from) importers.set(to, (importers.get(to) ?? new Set()).add(from));
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [file, from] of importers) {
      if (testCode.has(file) || ![...from].every((importer) => testCode.has(importer))) continue;
      testCode.add(file);
      grew = true;
    }
  }
  return testCode;
}

function where(edge: ImportEdge): string {
  return `${edge.from}:${edge.line}`;
}

/** The layer problems of the graph: imports across packages the policy forbids, or made by relative path. */
export function layerProblems(
  edges: readonly ImportEdge[],
  packages: readonly WorkspacePackage[],
  testCode: ReadonlySet<string>,
  policy: LayerPolicy,
): string[] {
  const problems: string[] = [];
  for (const pkg of packages) {
    if (!(pkg.name in policy.packages)) {
      problems.push(`${pkg.dir || "."}: package ${pkg.name} has no layer rule (scripts/lib/layer-rules.ts)`);
    }
  }
  for (const edge of edges) {
    const importer = packageOf(packages, edge.from);
    const target =
      edge.viaPackage !== undefined
        ? packages.find((pkg) => pkg.name === edge.viaPackage)
        : edge.to !== undefined
          ? packageOf(packages, edge.to)
          : undefined;
    if (!importer || !target || importer === target) continue;
    if (edge.viaPackage === undefined) {
      problems.push(
        `${where(edge)}: "${edge.specifier}" reaches into ${target.dir || "the root"} by relative path; import ${target.name}`,
      );
    }
    const allowed = policy.packages[importer.name];
    if (!allowed) continue;
    const isTest = testCode.has(edge.from);
    const testMayImport = isTest && policy.testImports.includes(target.name);
    if (allowed.includes(target.name) || testMayImport) continue;
    const kind = edge.kind === "value" ? "imports" : edge.kind === "type" ? "imports types from" : "loads";
    const list = allowed.length > 0 ? allowed.join(", ") : "no workspace package";
    const tests = isTest ? `, and as test code ${policy.testImports.join(", ")}` : "";
    const who = isTest ? `${importer.name} (test code)` : importer.name;
    problems.push(`${where(edge)}: ${who} ${kind} ${target.name}; it may import ${list}${tests}`);
  }
  return problems;
}
