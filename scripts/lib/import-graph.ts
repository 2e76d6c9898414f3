import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { type Node, parseSync, Visitor } from "oxc-parser";
import { isFile, listTsFiles, readWorkspacePackages, type WorkspacePackage } from "./workspace-files.ts";

/** How a file refers to another: a value import/re-export, a type-only one, or an `import()` expression. */
export type ImportKind = "value" | "type" | "dynamic";

/** One module specifier written in a file. */
export interface ImportSite {
  specifier: string;
  kind: ImportKind;
  line: number;
}

/** An import resolved inside the workspace; `to` is undefined when a relative or workspace one does not resolve. */
export interface ImportEdge extends ImportSite {
  from: string;
  to: string | undefined;
  /** The workspace package named by a bare specifier (`@fusion/wire`), if that is how it was written. */
  viaPackage: string | undefined;
}

export interface ImportGraph {
  files: string[];
  packages: WorkspacePackage[];
  edges: ImportEdge[];
  parseErrors: string[];
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

function literalValue(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0)
    return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

/**
 * Every specifier a file names: static imports and `export … from` (type-only when each of their names is
 * a type), `import()` with a literal argument, and `import("x")` types. Throws on a syntax error.
 */
export function parseImports(fileName: string, source: string): ImportSite[] {
  const result = parseSync(fileName, source);
  const firstError = result.errors[0];
  if (firstError) throw new Error(firstError.message);
  const sites: ImportSite[] = [];
  const add = (specifier: string, kind: ImportKind, offset: number) =>
    sites.push({ specifier, kind, line: lineAt(source, offset) });
  for (const statement of result.module.staticImports) {
    const typeOnly = statement.entries.length > 0 && statement.entries.every((entry) => entry.isType);
    add(statement.moduleRequest.value, typeOnly ? "type" : "value", statement.start);
  }
  for (const statement of result.module.staticExports) {
    const request = statement.entries.find((entry) => entry.moduleRequest)?.moduleRequest;
    if (!request) continue;
    const typeOnly = statement.entries.every((entry) => entry.isType);
    add(request.value, typeOnly ? "type" : "value", statement.start);
  }
  new Visitor({
    ImportExpression(node) {
      const specifier = literalValue(node.source);
      if (specifier !== undefined) add(specifier, "dynamic", node.start);
    },
    TSImportType(node) {
      const specifier = literalValue(node.source);
      if (specifier !== undefined) add(specifier, "type", node.start);
    },
  }).visit(result.program);
  return sites.sort((a, b) => a.line - b.line);
}

function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [
    base,
    `${base}.ts`,
    `${base}.tsx`,
    base.replace(/\.(m?js)$/, ".ts"),
    base.replace(/\.jsx$/, ".tsx"),
    `${base}/index.ts`,
    `${base}/index.tsx`,
  ];
  return candidates.find((candidate) => !candidate.startsWith("..") && isFile(root, candidate));
}

function workspacePackageOf(
  packages: readonly WorkspacePackage[],
  specifier: string,
): { pkg: WorkspacePackage; subpath: string } | undefined {
  for (const pkg of packages) {
    if (specifier === pkg.name) return { pkg, subpath: "." };
    if (specifier.startsWith(`${pkg.name}/`)) return { pkg, subpath: `.${specifier.slice(pkg.name.length)}` };
  }
  return undefined;
}

/** Builds the import graph of every .ts and .tsx file under root; bare specifiers outside the workspace are left out. */
export function buildImportGraph(root: string): ImportGraph {
  const files = listTsFiles(root);
  const packages = readWorkspacePackages(root);
  const edges: ImportEdge[] = [];
  const parseErrors: string[] = [];
  for (const from of files) {
    let sites: ImportSite[];
    try {
      sites = parseImports(from, readFileSync(join(root, from), "utf8"));
    } catch (error) {
      parseErrors.push(`${from}: ${(error as Error).message}`);
      continue;
    }
    for (const site of sites) {
      if (site.specifier.startsWith(".")) {
        edges.push({ ...site, from, to: resolveRelative(root, from, site.specifier), viaPackage: undefined });
        continue;
      }
      const named = workspacePackageOf(packages, site.specifier);
      if (!named) continue;
      const target = named.pkg.exports.get(named.subpath);
      const to = target !== undefined && isFile(root, target) ? target : undefined;
      edges.push({ ...site, from, to, viaPackage: named.pkg.name });
    }
  }
  return { files, packages, edges, parseErrors };
}
