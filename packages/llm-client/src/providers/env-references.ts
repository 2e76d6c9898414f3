/**
 * `${NAME}` and `${NAME:-default}` references in the strings of a providers file (`$${` stands for a
 * literal `${`), replaced from the environment.
 */

export const issuePath = (path: ReadonlyArray<PropertyKey>) => path.map(String).join(".") || "(file)";

/** Replaces `${NAME}` / `${NAME:-default}` in every string of a parsed file; unknown names are reported. */
export function expandEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: string[] = [],
  path: Array<string | number> = [],
): unknown {
  if (typeof value === "string") return expandString(value, env, issues, path);
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, issues, [...path, i]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, issues, [...path, k]);
    return out;
  }
  return value;
}

function expandString(
  s: string,
  env: Readonly<Record<string, string | undefined>>,
  issues: string[],
  path: Array<string | number>,
): string {
  const where = issuePath(path);
  let out = "";
  let i = 0;
  while (i < s.length) {
    const at = s.indexOf("$", i);
    if (at < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, at);
    if (s.startsWith("$${", at)) {
      out += "${";
      i = at + 3;
      continue;
    }
    if (!s.startsWith("${", at)) {
      out += "$";
      i = at + 1;
      continue;
    }
    const end = s.indexOf("}", at + 2);
    if (end < 0) {
      issues.push(`${where}: "\${" without a closing "}" (write $\${ for a literal \${)`);
      return out;
    }
    const inner = s.slice(at + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(inner);
    if (!m) {
      issues.push(`${where}: "\${${inner}}" is not a reference (expected \${NAME} or \${NAME:-default})`);
    } else {
      const [, name = "", fallback] = m;
      const v = env[name];
      if (v !== undefined && (v !== "" || fallback === undefined)) out += v;
      else if (fallback !== undefined) out += fallback;
      else issues.push(`${where}: environment variable ${name} is not set`);
    }
    i = end + 1;
  }
  return out;
}
