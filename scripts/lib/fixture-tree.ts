import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A temporary folder holding the given files (path → content); `remove` deletes it. */
export interface FixtureTree {
  root: string;
  remove(): void;
}

export function writeFixtureTree(files: Record<string, string>): FixtureTree {
  const root = mkdtempSync(join(tmpdir(), "check-layers-"));
  for (const [relPath, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, relPath)), { recursive: true });
    writeFileSync(join(root, relPath), content);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A package.json for a private workspace package whose "." export is src/index.ts. */
export function manifest(name: string): string {
  return JSON.stringify({ name, private: true, type: "module", exports: { ".": "./src/index.ts" } });
}
