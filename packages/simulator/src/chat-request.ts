/** A tool call as it appears in an assistant message of the request. */
export interface RequestToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A request message reduced to what the simulator looks at. */
export interface SimMessage {
  role: string;
  /** String content, or the `text` parts of array content joined. */
  text: string;
  toolCalls: RequestToolCall[];
  toolCallId: string | null;
  name: string | null;
}

/** A chat-completions request reduced to what the simulator looks at. */
export interface SimRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** The `messages` array as sent, for the prompt token count. */
  rawMessages: unknown[];
  messages: SimMessage[];
  /** Names of the offered function tools. */
  tools: string[];
  /** The offered server tools (`{ type: "openrouter:web_search", parameters }`), by type. */
  serverTools: Map<string, Record<string, unknown>>;
  /** `tool_choice` when it is a string (`auto`, `none`, `required`). */
  toolChoice: string | null;
  /** `response_format.type`, and `response_format.json_schema.name` when present. */
  responseFormat: { type: string; schemaName: string | null } | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isRecord(part) && part.type === "text" ? (str(part.text) ?? "") : ""))
    .filter((t) => t !== "")
    .join("\n");
}

function toMessage(raw: unknown): SimMessage {
  if (!isRecord(raw)) return { role: "", text: "", toolCalls: [], toolCallId: null, name: null };
  const toolCalls: RequestToolCall[] = [];
  if (Array.isArray(raw.tool_calls)) {
    for (const call of raw.tool_calls) {
      if (!isRecord(call) || !isRecord(call.function)) continue;
      toolCalls.push({
        id: str(call.id) ?? "",
        name: str(call.function.name) ?? "",
        arguments: str(call.function.arguments) ?? "",
      });
    }
  }
  return {
    role: str(raw.role) ?? "",
    text: contentText(raw.content),
    toolCalls,
    toolCallId: str(raw.tool_call_id),
    name: str(raw.name),
  };
}

/** Parses a request body; returns an error message when it is not a chat-completions request. */
export function parseChatRequest(body: unknown): SimRequest | string {
  if (!isRecord(body)) return "request body must be a JSON object";
  const model = str(body.model);
  if (!model) return "`model` is required";
  if (!Array.isArray(body.messages)) return "`messages` is required and must be an array";
  const tools: string[] = [];
  const serverTools = new Map<string, Record<string, unknown>>();
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      if (isRecord(tool) && typeof tool.type === "string" && tool.type.startsWith("openrouter:")) {
        serverTools.set(tool.type, isRecord(tool.parameters) ? tool.parameters : {});
        continue;
      }
      if (!isRecord(tool) || !isRecord(tool.function)) continue;
      if (tool.type !== undefined && tool.type !== "function") continue;
      const name = str(tool.function.name);
      if (name) tools.push(name);
    }
  }
  let responseFormat: SimRequest["responseFormat"] = null;
  if (isRecord(body.response_format)) {
    const schema = body.response_format.json_schema;
    responseFormat = {
      type: str(body.response_format.type) ?? "",
      schemaName: isRecord(schema) ? str(schema.name) : null,
    };
  }
  return {
    model,
    stream: body.stream === true,
    includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true,
    rawMessages: body.messages,
    messages: body.messages.map(toMessage),
    tools,
    serverTools,
    toolChoice: str(body.tool_choice),
    responseFormat,
  };
}

/** The text of the last `user` message ("" when there is none). */
export function lastUserText(req: SimRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const message = req.messages[i];
    if (message?.role === "user") return message.text;
  }
  return "";
}

/** The text of every `user` message, joined (a judge's repair turn keeps the panel's answers earlier). */
export function allUserText(req: SimRequest): string {
  return req.messages
    .filter((m) => m.role === "user")
    .map((m) => m.text)
    .join("\n");
}

/** The `tool` messages of the request, in order. */
export function toolMessages(req: SimRequest): SimMessage[] {
  return req.messages.filter((m) => m.role === "tool");
}

/** Every tool call the assistant made earlier in the conversation. */
export function previousToolCalls(req: SimRequest): RequestToolCall[] {
  return req.messages.filter((m) => m.role === "assistant").flatMap((m) => m.toolCalls);
}

/** The tool messages answering an earlier assistant call of the named function. */
export function toolResultsFor(req: SimRequest, name: string): SimMessage[] {
  const ids = new Set(
    previousToolCalls(req)
      .filter((c) => c.name === name)
      .map((c) => c.id),
  );
  return toolMessages(req).filter(
    (m) => (m.toolCallId !== null && ids.has(m.toolCallId)) || (m.toolCallId === null && m.name === name),
  );
}

const URL_PATTERN = /https?:\/\/[^\s"'<>\\`)\]}]+/g;

/** Distinct http(s) URLs found in the given texts, in order of appearance. */
export function findUrls(texts: string[]): string[] {
  const urls: string[] = [];
  for (const text of texts) {
    for (const match of text.matchAll(URL_PATTERN)) {
      const url = match[0].replace(/[.,;:!?]+$/, "");
      if (!urls.includes(url)) urls.push(url);
    }
  }
  return urls;
}
