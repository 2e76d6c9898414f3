import type { Role, Script } from "./script.ts";

/** One request the simulator received under `/v1`, `/api/v1` or `/chat`. */
export interface RecordedRequest {
  seq: number;
  /** Epoch milliseconds at arrival. */
  at: number;
  path: string;
  /** The `model` field as sent, or null when the body had none. */
  model: string | null;
  /** The role of a chat-completions request, or null for other requests. */
  role: Role | null;
  stream: boolean;
  /** Lowercased header names, values as sent (authorization included). */
  headers: Record<string, string>;
  /** The parsed JSON body, or null. */
  body: unknown;
  /** The recording a replayed model answered with (see `Script.replay`). */
  replayed?: string;
  /** The usage the simulator answered with (absent for failures, replays and non-chat requests). */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost: number };
}

export interface RequestCounts {
  total: number;
  /** By role; requests that are not chat completions count as "other". */
  byRole: Record<string, number>;
  /** By the `model` field as sent; "(none)" when the body had none. */
  byModel: Record<string, number>;
}

export interface RequestFilter {
  model?: string;
  role?: Role;
}

/** Per-model counters, reset whenever the model's script is set. */
interface ModelCounters {
  /** Requests the script applied to. */
  requests: number;
  /** Judge answers (not judge tool steps) the script applied to. */
  judgeAnswers: number;
  /** Requests answered with a recording of the script's `replay`. */
  replays: number;
}

/** Everything the simulator remembers: scripts by model, recorded requests and search toggles. */
export class SimulatorState {
  readonly scripts = new Map<string, Script>();
  readonly requests: RecordedRequest[] = [];
  /**
   * Search toggles: `fail` makes every search API answer 500; `braveToken` is the subscription token the
   * Brave API accepts (null: `BRAVE_SUBSCRIPTION_TOKEN`).
   */
  readonly search: { fail: boolean; braveToken: string | null } = { fail: false, braveToken: null };
  private readonly counters = new Map<string, ModelCounters>();
  private seq = 0;

  setScript(model: string, script: Script): void {
    this.scripts.set(model, script);
    this.counters.set(model, { requests: 0, judgeAnswers: 0, replays: 0 });
  }

  deleteScript(model: string): void {
    this.scripts.delete(model);
    this.counters.delete(model);
  }

  clearScripts(): void {
    this.scripts.clear();
    this.counters.clear();
  }

  /** The script for the exact slug, if it applies to this role. */
  scriptFor(model: string, role: Role): Script | undefined {
    const script = this.scripts.get(model);
    if (!script) return undefined;
    if (script.onlyRoles && !script.onlyRoles.includes(role)) return undefined;
    return script;
  }

  /** Counts one request of the model and returns its 0-based index since the script was set. */
  countRequest(model: string): number {
    const counters = this.countersOf(model);
    return counters.requests++;
  }

  /** Counts one judge answer of the model and returns its 0-based index since the script was set. */
  countJudgeAnswer(model: string): number {
    const counters = this.countersOf(model);
    return counters.judgeAnswers++;
  }

  /** Counts one replayed answer of the model and returns its 0-based index since the script was set. */
  countReplay(model: string): number {
    const counters = this.countersOf(model);
    return counters.replays++;
  }

  record(entry: Omit<RecordedRequest, "seq" | "at">): RecordedRequest {
    this.seq += 1;
    const recorded: RecordedRequest = { seq: this.seq, at: Date.now(), ...entry };
    this.requests.push(recorded);
    return recorded;
  }

  listRequests(filter: RequestFilter = {}): RecordedRequest[] {
    return this.requests.filter(
      (r) =>
        (filter.model === undefined || r.model === filter.model) &&
        (filter.role === undefined || r.role === filter.role),
    );
  }

  /** How many requests were recorded, in all and by role and model, without their bodies (cheap to fetch). */
  requestCounts(): RequestCounts {
    const byRole: Record<string, number> = {};
    const byModel: Record<string, number> = {};
    for (const r of this.requests) {
      const role = r.role ?? "other";
      byRole[role] = (byRole[role] ?? 0) + 1;
      const model = r.model ?? "(none)";
      byModel[model] = (byModel[model] ?? 0) + 1;
    }
    return { total: this.requests.length, byRole, byModel };
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  private countersOf(model: string): ModelCounters {
    let counters = this.counters.get(model);
    if (!counters) {
      counters = { requests: 0, judgeAnswers: 0, replays: 0 };
      this.counters.set(model, counters);
    }
    return counters;
  }
}
