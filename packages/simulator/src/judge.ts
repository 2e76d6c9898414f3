import { allUserText } from "./chat-request.ts";
import { shouldCallWebTool, webToolTurn } from "./panelist.ts";
import type { Script } from "./script.ts";
import { type Turn, type TurnContext, textTurn } from "./turn.ts";

/** Panel models named in the judge prompt as `<response model="...">`. */
function panelModels(prompt: string): string[] {
  return [...prompt.matchAll(/<response model="([^"]+)">/g)].map((m) => m[1] ?? "");
}

/** The http(s) URLs each panelist's answer mentions, by model, from the judge prompt. */
function panelSources(prompt: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of prompt.matchAll(/<response model="([^"]+)">([\s\S]*?)<\/response>/g)) {
    const urls = [...(m[2] ?? "").matchAll(/https?:\/\/[^\s,"')<>]+[^\s,"')<>.]/g)].map((u) => u[0]);
    out.set(m[1] ?? "", [...new Set(urls)]);
  }
  return out;
}

/**
 * A valid analysis of the given panel, in the shape of the service's `analysisSchema`. Unique
 * insights name the sources their panelist cited.
 */
function simulatedAnalysis(models: string[], sources: Map<string, string[]> = new Map()) {
  const [first, second] = models;
  return {
    consensus: [`All ${models.length} panelists agree on the core answer.`],
    consensus_sources: [[...new Set([...sources.values()].flat())].slice(0, 3)],
    contradictions:
      first !== undefined && second !== undefined
        ? [
            {
              topic: "emphasis",
              stances: [
                { model: first, stance: "Puts reliability first." },
                { model: second, stance: "Puts cost first." },
              ],
            },
          ]
        : [],
    partial_coverage:
      first !== undefined ? [{ models: [first], point: "Only one answer covered the migration path." }] : [],
    unique_insights: models.map((model) => ({
      model,
      insight: `A point only ${model} made.`,
      sources: sources.get(model) ?? [],
    })),
    blind_spots: ["Long-term costs were not addressed."],
  };
}

/** The judge's content for the scripted output shape. `answerIndex` counts this model's judge answers. */
function judgeContent(
  output: NonNullable<Script["judgeOutput"]>,
  models: string[],
  answerIndex: number,
  sources: Map<string, string[]> = new Map(),
): string {
  const analysis = simulatedAnalysis(models, sources);
  switch (output) {
    case "valid":
      return JSON.stringify(analysis);
    case "fenced":
      return `Here is the analysis of the panel.\n\n\`\`\`json\n${JSON.stringify(analysis, null, 2)}\n\`\`\`\n\nI hope this helps.`;
    case "prose":
      return `Here is my analysis: ${JSON.stringify(analysis)} Let me know if you need more.`;
    case "invalid":
      return '{"consensus": ["unterminated';
    case "invalid-then-valid":
      return answerIndex === 0 ? '{"consensus": ["unterminated' : JSON.stringify(analysis);
    case "schema-mismatch":
      return JSON.stringify({ summary: "The panel mostly agrees." });
    case "empty":
      return "";
  }
}

/** The judge comparing the panel's answers (after any web tool steps). */
export function judgeTurn(ctx: TurnContext, countAnswer: () => number): Turn {
  if (shouldCallWebTool(ctx)) return webToolTurn(ctx);
  const output = ctx.script.judgeOutput ?? "valid";
  const prompt = allUserText(ctx.req);
  return textTurn(judgeContent(output, panelModels(prompt), countAnswer(), panelSources(prompt)));
}
