/**
 * Fusion presets: a slug expands into a panel and a judge. `QUALITY` is what `openrouter/fusion`
 * uses when the request names neither a preset nor models.
 */
export interface Preset {
  slug: string;
  description: string;
  analysisModels: string[];
  judge: string;
}

export const FUSION_ALIAS = "openrouter/fusion";

export const QUALITY_PANEL = [
  "~anthropic/claude-opus-latest",
  "~openai/gpt-latest",
  "~google/gemini-pro-latest",
];

export const presets = {
  "general-high": {
    slug: "general-high",
    description: "The strongest all-round panel.",
    analysisModels: QUALITY_PANEL,
    judge: "~anthropic/claude-opus-latest",
  },
  "general-budget": {
    slug: "general-budget",
    description: "A cheaper panel with a frontier judge for strong synthesis at lower cost.",
    analysisModels: ["~google/gemini-flash-latest", "deepseek/deepseek-v3.2", "~moonshotai/kimi-latest"],
    judge: "~anthropic/claude-opus-latest",
  },
  "general-fast": {
    slug: "general-fast",
    description: "A latency-homogeneous panel optimized for fast agentic turns, with a frontier judge.",
    analysisModels: [
      "~google/gemini-flash-latest",
      "~openai/gpt-mini-latest",
      "~anthropic/claude-haiku-latest",
    ],
    judge: "~anthropic/claude-opus-latest",
  },
} as const satisfies Record<string, Preset>;

/**
 * The presets a deployment knows, and what a fusion that names neither a preset nor models uses. The
 * built-in one, unless a providers file (`FUSION_CONFIG`) redefines presets; see `presetCatalog`.
 */
export interface PresetCatalog {
  presets: Readonly<Record<string, Preset>>;
  defaultPanel: readonly string[];
  defaultJudge: string;
}

export const builtinPresetCatalog: PresetCatalog = {
  presets,
  defaultPanel: QUALITY_PANEL,
  defaultJudge: presets["general-high"].judge,
};
