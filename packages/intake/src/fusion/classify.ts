import { lastUserText } from "@fusion/pipeline";
import {
  type ChatMessage,
  type ChatRequest,
  type EntryPoint,
  FUSION_ALIAS,
  FUSION_TOOL_NAME,
  FUSION_TOOL_TYPE,
  type FusionFields,
  type FusionSettings,
  type PresetCatalog,
  resolveFusionSettings,
} from "@fusion/wire";

/** A request's body as sent on: its fields, with the conversation among them. */
type RequestBody = Record<string, unknown> & Pick<ChatRequest, "messages">;

/** A request passed through to the upstream. */
export interface ProxyPlan {
  kind: "proxy";
  /** The body to send upstream; `undefined` when the original bytes can be sent unchanged. */
  body: Record<string, unknown> | undefined;
}

/** A request answered by a fusion. */
export interface FusionPlan {
  kind: "fusion";
  entry: EntryPoint;
  mode: "forced" | "offered";
  writerModel: string;
  settings: FusionSettings;
  /** The caller's request for the writer model, without model, stream and fusion fields. */
  turnBody: RequestBody;
  messages: ChatMessage[];
  question: string;
}

export type Plan = ProxyPlan | FusionPlan;

/**
 * Decides what a validated request is: a plain pass-through, or a fusion that is forced (alias,
 * tool_choice) or offered to the model. A request that arrives from inside a fusion (depth ≥ 1) is
 * never offered the tool, so deliberation stays one level deep.
 */
export function classify(request: ChatRequest, depth: number, presets?: PresetCatalog): Plan {
  const fusionPlugin = request.plugins?.find((p) => p.id === "fusion") as
    | (FusionFields & { id: string })
    | undefined;
  const fusionTool = request.tools?.find((t) => t.type === FUSION_TOOL_TYPE) as
    | { type: string; parameters?: FusionFields }
    | undefined;
  const alias = request.model === FUSION_ALIAS;
  const fields: FusionFields = { ...stripId(fusionPlugin), ...(fusionTool?.parameters ?? {}) };
  const disabled = fusionPlugin?.enabled === false || fusionTool?.parameters?.enabled === false;

  if (!alias && !fusionPlugin && !fusionTool) {
    // Our own `fusion` options (progress) are not the upstream's business.
    if (!("fusion" in request)) return { kind: "proxy", body: undefined };
    const { fusion: _fusion, ...body } = request;
    return { kind: "proxy", body };
  }

  const entry: EntryPoint = alias ? "alias" : fusionTool ? "tool" : "plugin";
  const { settings, writerModel } = resolveFusionSettings(fields, entry, request.model, presets);

  if (depth >= 1 || disabled) {
    const body = withoutFusion(request);
    body.model = writerModel;
    return { kind: "proxy", body };
  }

  const forced = alias || forcesFusion(request.tool_choice);
  const turnBody = withoutFusion(request);
  delete turnBody.model;
  delete turnBody.stream;
  delete turnBody.stream_options;
  if (forced || namesFusion(request.tool_choice)) delete turnBody.tool_choice;

  return {
    kind: "fusion",
    entry,
    mode: forced ? "forced" : "offered",
    writerModel,
    settings,
    turnBody,
    messages: request.messages,
    question: lastUserText(request.messages),
  };
}

function stripId(plugin: (FusionFields & { id: string }) | undefined): FusionFields {
  if (!plugin) return {};
  const { id: _id, ...rest } = plugin;
  return rest;
}

function namesFusion(choice: ChatRequest["tool_choice"]): boolean {
  if (!choice || typeof choice === "string") return false;
  if (choice.type === FUSION_TOOL_TYPE) return true;
  return (
    choice.type === "function" &&
    (choice as { function: { name: string } }).function.name === FUSION_TOOL_NAME
  );
}

function forcesFusion(choice: ChatRequest["tool_choice"]): boolean {
  return choice === "required" || namesFusion(choice);
}

/** The request without the fusion plugin and tool; other plugins and tools are kept for the upstream. */
function withoutFusion(request: ChatRequest): RequestBody {
  const body: RequestBody = { ...request };
  delete body.fusion;
  const plugins = request.plugins?.filter((p) => p.id !== "fusion");
  if (plugins?.length) body.plugins = plugins;
  else delete body.plugins;
  const tools = request.tools?.filter((t) => t.type !== FUSION_TOOL_TYPE);
  if (tools?.length) body.tools = tools;
  else {
    delete body.tools;
    delete body.tool_choice;
  }
  if (namesFusion(request.tool_choice)) delete body.tool_choice;
  return body;
}
