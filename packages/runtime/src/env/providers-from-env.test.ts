import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commonEnvSchema, parseEnv } from "./common-env.ts";
import { loadProvidersFromEnv } from "./providers-from-env.ts";

const dir = mkdtempSync(join(tmpdir(), "fusion-config-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The message of what `fn` throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected a throw");
}

/** Start-up as a service does it: the environment, then the file it names. */
const startUp = (source: Record<string, string>) =>
  loadProvidersFromEnv(parseEnv(commonEnvSchema, source), {});

describe("FUSION_CONFIG", () => {
  it("holds the path; the file is read once at start-up, after the environment is parsed", () => {
    const path = file(
      "env.yaml",
      "providers: { a: { base_url: 'http://127.0.0.1:9/v1' } }\nroutes: [{ match: '*', provider: a }]\n",
    );
    expect(parseEnv(commonEnvSchema, { FUSION_CONFIG: ` ${path} ` }).FUSION_CONFIG).toBe(path);
    const config = startUp({ FUSION_CONFIG: path });
    expect(config?.routes).toEqual([{ match: "*", provider: "a" }]);
    expect(startUp({})).toBeUndefined();
  });

  it("stops start-up with the variable, the file and the field named", () => {
    const path = file(
      "bad.yaml",
      "providers: { a: { base_url: 'http://127.0.0.1:9/v1' } }\nroutes: [{ match: '*', provider: b }]\n",
    );
    expect(thrown(() => startUp({ FUSION_CONFIG: path }))).toBe(
      `invalid configuration:\n  FUSION_CONFIG: ${path}: routes.0.provider: unknown provider "b"; the file defines a`,
    );
  });

  it("names the variable when the file cannot be read", () => {
    const path = join(dir, "missing.yaml");
    expect(thrown(() => startUp({ FUSION_CONFIG: path }))).toBe(
      `invalid configuration:\n  FUSION_CONFIG: ${path}: cannot be read (no such file)`,
    );
  });
});
