import { classify, lineBody } from "@fusion/intake";
import { type ChatRequest, chatRequestSchemaFor, type PresetCatalog } from "@fusion/wire";

/** The request schema of each preset catalog, built once (a split checks every line of a batch). */
const schemas = new WeakMap<PresetCatalog, ReturnType<typeof chatRequestSchemaFor>>();
function schemaFor(presets: PresetCatalog) {
  let schema = schemas.get(presets);
  if (!schema) {
    schema = chatRequestSchemaFor(presets);
    schemas.set(presets, schema);
  }
  return schema;
}

/**
 * A line's chat request, as the batch checked it at creation, with its JSON (what a pass-through sends);
 * undefined when it no longer parses.
 */
export function parseLine(
  text: string,
  presets: PresetCatalog,
): { request: ChatRequest; json: Record<string, unknown> } | undefined {
  try {
    const line = JSON.parse(text) as { body?: Record<string, unknown> };
    const json = lineBody(line.body ?? {});
    const parsed = schemaFor(presets).safeParse(json);
    return parsed.success ? { request: parsed.data, json } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a batch's split records of a line: its `custom_id`, and whether it runs as a fusion (a line
 * that no longer parses is not one: it is answered 400 without a permit).
 */
export function describeLine(text: string, presets: PresetCatalog): { customId: string; fusion: boolean } {
  let customId = "";
  try {
    customId = String((JSON.parse(text) as { custom_id?: unknown }).custom_id ?? "");
  } catch {
    return { customId, fusion: false };
  }
  const line = parseLine(text, presets);
  return { customId, fusion: line !== undefined && classify(line.request, 0, presets).kind !== "proxy" };
}
