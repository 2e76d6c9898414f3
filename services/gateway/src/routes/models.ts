import { presetCatalog } from "@fusion/llm-client";
import { FUSION_ALIAS } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { factory } from "../factory.ts";

/**
 * `GET /models`: our aliases and presets, in the shape of OpenAI's model list, and the routes of model slugs to
 * providers (one catch-all to the single upstream without a providers file).
 */
export function modelsRoute(deps: Pick<GatewayDeps, "providers">) {
  const created = Math.floor(Date.now() / 1000);
  const config = deps.providers;
  const catalog = presetCatalog(config);
  const body = {
    object: "list",
    data: [
      {
        id: FUSION_ALIAS,
        object: "model",
        created,
        owned_by: "fusion",
        name: "Fusion",
        description:
          "Multi-model deliberation: a panel answers in parallel with web tools, a judge compares, the judge model writes the answer.",
        fusion: { analysis_models: catalog.defaultPanel, judge: catalog.defaultJudge },
      },
    ],
    presets: Object.values(catalog.presets).map((p) => ({
      slug: p.slug,
      description: p.description,
      analysis_models: p.analysisModels,
      judge: p.judge,
    })),
    routes: config
      ? config.routes.map((r) => ({ match: r.match, provider: r.provider }))
      : [{ match: "*", provider: "default" }],
  };
  return factory.createApp().get("/models", (c) => c.json(body));
}
