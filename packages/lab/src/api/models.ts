import { apiHeaders } from "./http.ts";

export interface PresetOption {
  slug: string;
  description: string;
  models: string[];
  judge: string;
}

/** What `/api/v1/models` offers the set-up form. */
export interface ModelCatalog {
  /** The fusion alias (`openrouter/fusion`). */
  alias: string;
  /** Every model named by the default panel, the presets and their judges, each once. */
  models: string[];
  presets: PresetOption[];
  defaultPanel: string[];
  defaultJudge: string;
}

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s) => typeof s === "string") : []);
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);

/** The catalog in a `/api/v1/models` body (the alias's fusion defaults and the presets). */
export function catalogOf(body: unknown): ModelCatalog {
  const root = isJson(body) ? body : {};
  const alias = (Array.isArray(root.data) ? root.data : []).find((m) => isJson(m) && isJson(m.fusion));
  const fusion = isJson(alias) && isJson(alias.fusion) ? alias.fusion : {};
  const presets = (Array.isArray(root.presets) ? root.presets : []).filter(isJson).map((p) => ({
    slug: str(p.slug),
    description: str(p.description),
    models: strings(p.analysis_models),
    judge: str(p.judge),
  }));
  const defaultPanel = strings(fusion.analysis_models);
  const defaultJudge = str(fusion.judge, presets[0]?.judge ?? "");
  const models = [
    ...new Set([...defaultPanel, defaultJudge, ...presets.flatMap((p) => [...p.models, p.judge])]),
  ].filter(Boolean);
  return {
    alias: isJson(alias) ? str(alias.id, "openrouter/fusion") : "openrouter/fusion",
    models,
    presets: presets.filter((p) => p.slug),
    defaultPanel,
    defaultJudge,
  };
}

export type ModelsAnswer =
  | { kind: "ok"; catalog: ModelCatalog }
  | { kind: "unauthorized" }
  | { kind: "error"; message: string };

/** Asks `/api/v1/models` (with the key when there is one); a 401 means the gateway wants a key. */
export async function loadModels(apiKey: string): Promise<ModelsAnswer> {
  try {
    const response = await fetch("/api/v1/models", { headers: apiHeaders(apiKey) });
    if (response.status === 401) return { kind: "unauthorized" };
    if (!response.ok) return { kind: "error", message: `models: ${response.status}` };
    return { kind: "ok", catalog: catalogOf(await response.json()) };
  } catch (err) {
    return { kind: "error", message: err instanceof Error ? err.message : String(err) };
  }
}
