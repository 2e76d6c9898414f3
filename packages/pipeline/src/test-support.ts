/** Fakes for the pipeline's in-process tests: an event sink, web tools and a log kept in memory. */
import { type ToolExecutor, type ToolResult, UpstreamClient } from "@fusion/llm-client";
import type { RunningSimulator } from "@fusion/simulator";
import { useSimulator } from "@fusion/simulator/test-support";
import {
  addUsage,
  type EventType,
  type FusionSettings,
  type PendingEvent,
  type ProgressEvent,
  type Usage,
  type WebToolName,
} from "@fusion/wire";
import { afterAll, beforeAll } from "vitest";
import type { EventSink } from "./event-sink.ts";
import type { StageLogger } from "./stage-ports.ts";

type RecordedRequest = ReturnType<RunningSimulator["state"]["listRequests"]>[number];

export interface SunkEvent {
  fusionId: string;
  type: EventType;
  data: string | object;
}

/** An event sink that keeps every event; `failWith` makes appends fail. */
export class MemorySink implements EventSink {
  readonly events: SunkEvent[] = [];
  failWith: Error | undefined;

  async append(fusionId: string, ...events: PendingEvent[]): Promise<string> {
    if (this.failWith) throw this.failWith;
    for (const e of events) this.events.push({ fusionId, ...e });
    return `${this.events.length}-0`;
  }

  ofType(type: EventType): SunkEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  progress(): ProgressEvent[] {
    return this.ofType("progress").map((e) => e.data as ProgressEvent);
  }

  /** The `chat.completion.chunk` objects, parsed. */
  chunks(): Array<Record<string, unknown>> {
    return this.ofType("chunk").map((e) => JSON.parse(e.data as string) as Record<string, unknown>);
  }

  /** The text of every content chunk, joined. */
  text(): string {
    return this.chunks()
      .map((c) => (c.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? "")
      .join("");
  }

  completion(): Record<string, unknown> | undefined {
    const final = this.ofType("final")[0];
    return final ? (final.data as { completion: Record<string, unknown> }).completion : undefined;
  }
}

/** Web tools that answer at once: a search names one page per query, a fetch returns the page. */
export class FakeTools implements ToolExecutor {
  readonly calls: Array<{ name: string; arguments: string }> = [];

  definitions(names: ReadonlyArray<WebToolName>): unknown[] {
    return names.map((name) => ({
      type: "function",
      function: { name, description: `the ${name} tool`, parameters: { type: "object", properties: {} } },
    }));
  }

  async execute(name: string, argumentsJson: string): Promise<ToolResult> {
    this.calls.push({ name, arguments: argumentsJson });
    const url = `https://example.org/${name}/${this.calls.length}`;
    return {
      name,
      ok: true,
      content: JSON.stringify({ results: [{ url, title: `Page ${url}` }] }),
      urls: [{ url }],
    };
  }
}

export interface LogLine {
  level: "info" | "warn" | "error";
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps its lines. */
export function memoryLog(): StageLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

export function settingsFor(
  analysisModels: string[],
  judgeModel: string,
  tools: WebToolName[] = [],
): FusionSettings {
  return { analysisModels, judgeModel, maxToolCalls: 4, tools };
}

let seq = 0;
/** A model slug of its own for each test, so that scripts and recorded requests do not mix. */
export function uniqueModel(name: string): string {
  seq++;
  return `test/${name}-${seq}`;
}

/** What the simulator's answers to these requests cost, added up. */
export function usageOf(requests: RecordedRequest[]): Usage {
  return addUsage(...requests.map((r) => r.usage));
}

/** The JSON body of a recorded request (empty when there was none). */
export function bodyOf(request: RecordedRequest | undefined): Record<string, unknown> {
  return (request?.body as Record<string, unknown> | null) ?? {};
}

/** The messages of a recorded request. */
export function messagesOf(request: RecordedRequest | undefined): Array<{ role: string; content?: unknown }> {
  return (request?.body as { messages?: Array<{ role: string; content?: unknown }> } | null)?.messages ?? [];
}

/**
 * The simulator, and the real `UpstreamClient` on it (no retries), started before a file's tests and
 * closed after them; read `upstream` inside hooks and tests only.
 */
export function useSimulatedUpstream() {
  const sim = useSimulator();
  let client: UpstreamClient | undefined;
  beforeAll(() => {
    client = new UpstreamClient({ baseUrl: `${sim.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => client?.close());
  return {
    sim,
    get upstream(): UpstreamClient {
      if (!client) throw new Error("the upstream is started in beforeAll");
      return client;
    },
  };
}
