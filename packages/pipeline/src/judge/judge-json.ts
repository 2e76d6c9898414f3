import { type Analysis, analysisSchema } from "@fusion/wire";

const FIELDS = ["consensus", "contradictions", "partial_coverage", "unique_insights", "blind_spots"] as const;

/**
 * Finds the JSON object in a judge's reply: the whole reply, a fenced ```json block, or the first
 * balanced `{...}` inside prose.
 */
export function extractJsonObject(text: string): unknown {
  const trimmed = text.trim();
  const candidates: string[] = [trimmed];
  for (const m of trimmed.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)) {
    if (m[1]) candidates.push(m[1].trim());
  }
  const balanced = firstBalancedObject(trimmed);
  if (balanced) candidates.push(balanced);
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (value && typeof value === "object" && !Array.isArray(value)) return value;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function firstBalancedObject(text: string): string | undefined {
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === "{") depth++;
      else if (ch === "}") {
        depth--;
        if (depth === 0) {
          const slice = text.slice(start, i + 1);
          try {
            JSON.parse(slice);
            return slice;
          } catch {
            break;
          }
        }
      }
    }
  }
  return undefined;
}

export type AnalysisParse = { ok: true; analysis: Analysis } | { ok: false; error: string };

/**
 * Parses and validates a judge's reply. A missing list is read as empty, but a reply that holds none
 * of the analysis fields is a schema mismatch, not an empty analysis.
 */
export function parseAnalysis(text: string | null | undefined): AnalysisParse {
  if (!text?.trim()) return { ok: false, error: "the judge returned no text" };
  const value = extractJsonObject(text);
  if (value === undefined) return { ok: false, error: "the reply holds no JSON object" };
  const obj = value as Record<string, unknown>;
  if (!FIELDS.some((f) => f in obj)) {
    return { ok: false, error: `the JSON object has none of the fields ${FIELDS.join(", ")}` };
  }
  const filled: Record<string, unknown> = Object.fromEntries(FIELDS.map((f) => [f, obj[f] ?? []]));
  if (Array.isArray(obj.consensus_sources)) filled.consensus_sources = obj.consensus_sources;
  const parsed = analysisSchema.safeParse(filled);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      error: `schema mismatch at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`,
    };
  }
  return { ok: true, analysis: parsed.data };
}
