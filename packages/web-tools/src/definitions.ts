/** The web tools this package implements. */
export type WebToolName = "web_search" | "web_fetch";

export const WEB_TOOL_NAMES: readonly WebToolName[] = ["web_search", "web_fetch"];

/** An OpenAI chat-completions function tool. */
export interface FunctionToolDefinition {
  type: "function";
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export function isWebToolName(name: string): name is WebToolName {
  return (WEB_TOOL_NAMES as readonly string[]).includes(name);
}

/** The OpenAI function-tool definition of one web tool. */
export function toolDefinition(name: WebToolName, defaultSearchResults: number): FunctionToolDefinition {
  if (name === "web_search") {
    return {
      type: "function",
      function: {
        name: "web_search",
        description:
          "Search the web. Returns a list of results, each with a title, URL and snippet. Use it to find " +
          "current information and sources; read a promising result in full with web_fetch.",
        parameters: {
          type: "object",
          properties: {
            query: { type: "string", description: "The search query." },
            max_results: {
              type: "integer",
              minimum: 1,
              maximum: 25,
              description: `How many results to return (1-25, default ${defaultSearchResults}).`,
            },
          },
          required: ["query"],
          additionalProperties: false,
        },
      },
    };
  }
  return {
    type: "function",
    function: {
      name: "web_fetch",
      description:
        "Fetch a public web page or text document by its http(s) URL and return its readable text " +
        "(HTML is converted to plain text without navigation, scripts or link URLs), with the final URL " +
        "after redirects and the page title.",
      parameters: {
        type: "object",
        properties: {
          url: { type: "string", description: "The absolute http or https URL to fetch." },
          max_content_tokens: {
            type: "integer",
            minimum: 1,
            description:
              "Upper bound on the length of the returned text, in tokens (about 4 characters each).",
          },
        },
        required: ["url"],
        additionalProperties: false,
      },
    },
  };
}
