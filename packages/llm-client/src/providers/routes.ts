/**
 * Model slug → provider routing: glob patterns (`*` matches any characters, `/` included), first
 * match wins, and the slug is optionally rewritten for the provider (`model_map`, then `strip_prefix`).
 */

export interface SlugRewrite {
  /** Removed from the start of a slug that has more after it (`local/llama3` → `llama3`). */
  stripPrefix?: string;
  /** Exact slug → slug sent upstream; checked before `stripPrefix`. */
  modelMap?: Record<string, string>;
}

export interface RouteRule extends SlugRewrite {
  match: string;
  provider: string;
}

export interface RouteTarget {
  provider: string;
  /** The pattern that matched. */
  match: string;
  /** The slug to send to the provider. */
  model: string;
}

/** A glob as an anchored RegExp: `*` matches anything (also nothing); every other character is literal. */
export function compileMatch(pattern: string): RegExp {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[\\^$.|?+()[\]{}/-]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "s");
}

/** The slug as a provider should receive it. */
export function rewriteSlug(model: string, route: SlugRewrite, provider: SlugRewrite = {}): string {
  for (const map of [route.modelMap, provider.modelMap]) {
    if (map && Object.hasOwn(map, model)) return map[model] as string;
  }
  const prefix = route.stripPrefix ?? provider.stripPrefix;
  if (prefix && model.startsWith(prefix) && model.length > prefix.length) return model.slice(prefix.length);
  return model;
}

/** Compiled routes; `resolve` gives the first that matches a slug. */
export class ModelRoutes {
  readonly #rules: Array<{ rule: RouteRule; re: RegExp }>;
  readonly #providers: Readonly<Record<string, SlugRewrite>>;

  constructor(rules: readonly RouteRule[], providers: Readonly<Record<string, SlugRewrite>> = {}) {
    this.#rules = rules.map((rule) => ({ rule, re: compileMatch(rule.match) }));
    this.#providers = providers;
  }

  resolve(model: string): RouteTarget | undefined {
    for (const { rule, re } of this.#rules) {
      if (!re.test(model)) continue;
      const provider = Object.hasOwn(this.#providers, rule.provider) ? this.#providers[rule.provider] : {};
      return { provider: rule.provider, match: rule.match, model: rewriteSlug(model, rule, provider) };
    }
    return undefined;
  }
}
