import { classify } from "@fusion/intake";
import { ModelRoutes, presetCatalog } from "@fusion/llm-client";
import { FusionError } from "@fusion/wire";
import type { GatewayDeps } from "../deps.ts";
import { unroutedModel } from "../flow/unrouted-model.ts";
import { chatRequestParser } from "../request/parse-chat-request.ts";

/**
 * The check of a batch line's body: what `POST /chat/completions` accepts (the same parser, limits,
 * presets and model routes), without `stream` (a line is answered whole). Returns the problem, or
 * undefined.
 */
export function lineBodyChecker(
  deps: Pick<GatewayDeps, "env" | "providers">,
): (body: Record<string, unknown>) => string | undefined {
  const presets = presetCatalog(deps.providers);
  const parse = chatRequestParser(deps.env, presets);
  const config = deps.providers;
  const routes = config && new ModelRoutes(config.routes, config.providers);
  return (body) => {
    try {
      const { stream: _stream, stream_options: _options, ...rest } = body;
      const { request } = parse(JSON.stringify(rest));
      const plan = classify(request, 0, presets);
      if (plan.kind === "proxy") {
        const model = typeof plan.body?.model === "string" ? plan.body.model : request.model;
        return routes && !routes.resolve(model) ? `no provider route matches model "${model}"` : undefined;
      }
      return unroutedModel(plan, routes);
    } catch (err) {
      if (err instanceof FusionError) return err.message;
      throw err;
    }
  };
}
