import { type FusionConfig, ModelRoutes } from "@fusion/llm-client";
import { type CommonEnv, upstreamApiKey } from "@fusion/runtime";

/** What the proxy says about the upstream of a failed call: its name, and the secrets to keep out. */
export interface UpstreamIdentity {
  /**
   * The upstream a model is sent to, as a reader can tell it: a provider of the file by its name (not
   * its address), or the host of UPSTREAM_BASE_URL.
   */
  nameFor(model: string): string;
  /** API keys and credential headers of every upstream, removed from anything quoted back. */
  secrets: readonly string[];
}

/** Header names whose values are credentials. */
const CREDENTIAL_HEADER = /auth|key|token|secret|cookie/i;

/** The host of a URL, without credentials; "the upstream" when it is no URL. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the upstream";
  }
}

/** Credentials written into a URL (`https://user:pass@host`). */
function urlCredentials(url: string): string[] {
  try {
    const { username, password } = new URL(url);
    return [username, password].filter(Boolean).map((v) => decodeURIComponent(v));
  } catch {
    return [];
  }
}

function credentials(value: string): string[] {
  const bare = value.replace(/^(Bearer|Basic|Token)\s+/i, "");
  return bare === value ? [value] : [value, bare];
}

/**
 * The upstreams of a gateway's configuration: the providers of FUSION_CONFIG, by the route a model
 * takes, or the one of UPSTREAM_BASE_URL.
 */
export function upstreamIdentity(env: CommonEnv, providers: FusionConfig | undefined): UpstreamIdentity {
  const secrets = new Set<string>();
  const key = upstreamApiKey(env);
  if (key) secrets.add(key);
  if (!providers) {
    const baseUrl = env.UPSTREAM_BASE_URL ?? "https://openrouter.ai/api/v1";
    for (const s of urlCredentials(baseUrl)) secrets.add(s);
    const name = `upstream ${hostOf(baseUrl)}`;
    return { nameFor: () => name, secrets: [...secrets] };
  }
  for (const p of Object.values(providers.providers)) {
    if (p.apiKey) secrets.add(p.apiKey);
    for (const s of urlCredentials(p.baseUrl)) secrets.add(s);
    for (const [header, value] of Object.entries(p.headers)) {
      if (CREDENTIAL_HEADER.test(header)) for (const s of credentials(value)) secrets.add(s);
    }
  }
  const routes = new ModelRoutes(providers.routes, providers.providers);
  return {
    nameFor(model) {
      const provider = routes.resolve(model)?.provider;
      const config = provider === undefined ? undefined : providers.providers[provider];
      return config ? `provider ${config.name}` : "the upstream";
    },
    secrets: [...secrets],
  };
}
