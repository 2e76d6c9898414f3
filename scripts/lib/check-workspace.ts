import { findCycles } from "./import-cycles.ts";
import { buildImportGraph } from "./import-graph.ts";
import { fusionLayers, type LayerPolicy, layerProblems, testCodeFiles } from "./layer-rules.ts";

/** What the layer check found, by kind; every list empty means the workspace passes. */
export interface WorkspaceFindings {
  files: number;
  edges: number;
  parseErrors: string[];
  unresolved: string[];
  cycles: string[];
  layers: string[];
}

/** Reads every .ts file under root, then reports import cycles and imports the layer policy forbids. */
export function checkWorkspace(root: string, policy: LayerPolicy = fusionLayers): WorkspaceFindings {
  const graph = buildImportGraph(root);
  const cycles = findCycles(graph.edges).map(({ files, path }) => {
    const rest = files.filter((file) => !path.includes(file));
    const also = rest.length > 0 ? ` (tangled with ${rest.join(", ")})` : "";
    return `${path.join(" → ")}${also}`;
  });
  return {
    files: graph.files.length,
    edges: graph.edges.length,
    parseErrors: graph.parseErrors,
    unresolved: graph.edges
      .filter((edge) => edge.to === undefined)
      .map((edge) => `${edge.from}:${edge.line}: cannot resolve "${edge.specifier}"`),
    cycles,
    layers: layerProblems(graph.edges, graph.packages, testCodeFiles(graph.files, graph.edges), policy),
  };
}

/** Whether the findings hold any problem. */
export function hasProblems(findings: WorkspaceFindings): boolean {
  const { parseErrors, unresolved, cycles, layers } = findings;
  return parseErrors.length + unresolved.length + cycles.length + layers.length > 0;
}
