/**
 * The layer check (issue 9): builds the import graph of every .ts file of the workspace (static imports
 * and re-exports, type-only ones included, `import()` and `import("…")` types) and exits 1 listing each
 * import cycle and each import of a workspace package that is not below the importer's layer.
 *
 *   node scripts/check-layers.ts [root]
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkWorkspace, hasProblems } from "./lib/check-workspace.ts";

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
const findings = checkWorkspace(root);

const sections: Array<[string, string[]]> = [
  ["Files that do not parse", findings.parseErrors],
  ["Imports that do not resolve", findings.unresolved],
  ["Import cycles", findings.cycles],
  ["Layer violations", findings.layers],
];
for (const [title, lines] of sections) {
  if (lines.length === 0) continue;
  console.error(`${title} (${lines.length})`);
  for (const line of lines) console.error(`  ${line}`);
}
if (hasProblems(findings)) {
  process.exitCode = 1;
} else {
  console.log(
    `check-layers: ${findings.files} files, ${findings.edges} internal imports, no cycle, layers hold`,
  );
}
