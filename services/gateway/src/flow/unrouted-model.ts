import type { FusionPlan } from "@fusion/intake";

/**
 * With a providers file, the first model of a fusion that no route matches, named with its role; such
 * a fusion is refused up front rather than failing in a worker. Undefined when every model routes.
 */
export function unroutedModel(
  plan: FusionPlan,
  routes: { resolve(model: string): unknown } | undefined,
): string | undefined {
  if (!routes) return undefined;
  const models: Array<[string, string]> = [
    [plan.writerModel, plan.entry === "alias" ? "the judge and writer" : "the calling model"],
    ...plan.settings.analysisModels.map((m): [string, string] => [m, "a panel model"]),
    [plan.settings.judgeModel, "the judge"],
  ];
  const miss = models.find(([model]) => !routes.resolve(model));
  return miss && `no provider route matches model "${miss[0]}" (${miss[1]})`;
}
