import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";

/** A package.json found in the tree: its name, its folder (relative to the root, "" for the root) and exports. */
export interface WorkspacePackage {
  name: string;
  dir: string;
  /** Subpath ("." or "./x") → file relative to the root, from `exports` (or `main` for "."). */
  exports: ReadonlyMap<string, string>;
}

const SKIPPED_DIRS = new Set(["node_modules", "dist", "coverage"]);

function walk(root: string, dir: string, visit: (relPath: string) => void): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name.startsWith(".") || SKIPPED_DIRS.has(entry.name)) continue;
    const relPath = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(root, relPath, visit);
    else if (entry.isFile()) visit(relPath);
  }
}

/** Every TypeScript source file (`.ts`, `.tsx`) under root (not node_modules, dot folders or declaration files), sorted. */
export function listTsFiles(root: string): string[] {
  const files: string[] = [];
  walk(root, "", (relPath) => {
    if (/\.tsx?$/.test(relPath) && !relPath.endsWith(".d.ts")) files.push(relPath);
  });
  return files.sort();
}

type ExportTarget = string | { [condition: string]: ExportTarget } | null | undefined;

function pickTarget(target: ExportTarget): string | undefined {
  if (typeof target === "string") return target;
  if (!target || typeof target !== "object") return undefined;
  for (const condition of ["import", "default", "node", "types"]) {
    const picked = pickTarget(target[condition]);
    if (picked) return picked;
  }
  return undefined;
}

function exportMap(dir: string, manifest: { exports?: unknown; main?: unknown }): Map<string, string> {
  const map = new Map<string, string>();
  const add = (subpath: string, target: string | undefined) => {
    if (target) map.set(subpath, posix.join(dir, target));
  };
  const { exports } = manifest;
  if (typeof exports === "string") add(".", exports);
  else if (exports && typeof exports === "object") {
    const entries = Object.entries(exports as Record<string, ExportTarget>);
    if (entries.every(([key]) => key.startsWith("."))) {
      for (const [subpath, target] of entries) add(subpath, pickTarget(target));
    } else add(".", pickTarget(exports as ExportTarget));
  }
  if (!map.has(".") && typeof manifest.main === "string") add(".", manifest.main);
  return map;
}

/** The packages of the workspace: every package.json under root, the root's own included. */
export function readWorkspacePackages(root: string): WorkspacePackage[] {
  const manifests: string[] = [];
  if (existsSync(join(root, "package.json"))) manifests.push("package.json");
  walk(root, "", (relPath) => {
    if (relPath.endsWith("/package.json")) manifests.push(relPath);
  });
  return manifests.flatMap((relPath) => {
    const manifest = JSON.parse(readFileSync(join(root, relPath), "utf8")) as Record<string, unknown>;
    if (typeof manifest.name !== "string") return [];
    const dir = posix.dirname(relPath) === "." ? "" : posix.dirname(relPath);
    return [{ name: manifest.name, dir, exports: exportMap(dir, manifest) }];
  });
}

/** The package whose folder holds relPath most closely (the root package holds what no other does). */
export function packageOf(
  packages: readonly WorkspacePackage[],
  relPath: string,
): WorkspacePackage | undefined {
  let best: WorkspacePackage | undefined;
  for (const pkg of packages) {
    const holds = pkg.dir === "" || relPath.startsWith(`${pkg.dir}/`);
    if (holds && (!best || pkg.dir.length > best.dir.length)) best = pkg;
  }
  return best;
}

/** Whether relPath names an existing file under root. */
export function isFile(root: string, relPath: string): boolean {
  try {
    return statSync(join(root, relPath)).isFile();
  } catch {
    return false;
  }
}
