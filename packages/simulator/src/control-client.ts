import { controlAuthorization } from "./control-token.ts";
import type { Role, Script } from "./script.ts";
import type { RecordedRequest, RequestCounts } from "./state.ts";

/** A typed client of the simulator's `/_sim` control API, holding its token (`RunningSimulator.controlToken`). */
export class SimulatorControl {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#token = token;
  }

  /** Sets the script of one model slug (exactly as requests send it) and resets its counters. */
  async script(model: string, script: Script): Promise<void> {
    await this.call("PUT", `/_sim/scripts/${encodeURIComponent(model)}`, script);
  }

  async clearScripts(): Promise<void> {
    await this.call("DELETE", "/_sim/scripts");
  }

  async requests(filter: { model?: string; role?: Role } = {}): Promise<RecordedRequest[]> {
    const params = new URLSearchParams();
    if (filter.model !== undefined) params.set("model", filter.model);
    if (filter.role !== undefined) params.set("role", filter.role);
    const query = params.size > 0 ? `?${params}` : "";
    const body = (await this.call("GET", `/_sim/requests${query}`)) as { requests: RecordedRequest[] };
    return body.requests;
  }

  /** Counts of the recorded requests by role and model, without their bodies. */
  async requestCounts(): Promise<RequestCounts> {
    return (await this.call("GET", "/_sim/request-counts")) as RequestCounts;
  }

  async clearRequests(): Promise<void> {
    await this.call("DELETE", "/_sim/requests");
  }

  /** Makes `/search` answer 500 (or answer normally again). */
  async searchFails(fail: boolean): Promise<void> {
    await this.call("POST", "/_sim/search", { fail });
  }

  /** The subscription token the Brave API accepts from now on; null: `BRAVE_SUBSCRIPTION_TOKEN` again. */
  async acceptBraveToken(token: string | null): Promise<void> {
    await this.call("PUT", "/_sim/brave-token", { token });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...controlAuthorization(this.#token),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator control ${method} ${path} failed: ${res.status} ${text}`);
    return text === "" ? null : JSON.parse(text);
  }
}
