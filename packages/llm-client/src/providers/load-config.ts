import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { type FusionConfig, FusionConfigError, parseFusionConfig } from "./config.ts";

/** Reads and validates a providers file: `.json`, `.yaml` or `.yml`. */
export function loadFusionConfig(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): FusionConfig {
  const ext = extname(path).toLowerCase();
  if (![".json", ".yaml", ".yml"].includes(ext)) {
    throw new FusionConfigError(`${path}: must be a .json, .yaml or .yml file`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FusionConfigError(
      `${path}: cannot be read (${code === "ENOENT" ? "no such file" : (code ?? String(err))})`,
    );
  }
  let raw: unknown;
  try {
    raw = ext === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const what = ext === ".json" ? "JSON" : "YAML";
    throw new FusionConfigError(`${path}: not valid ${what}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (raw === null || raw === undefined) throw new FusionConfigError(`${path}: the file is empty`);
  return parseFusionConfig(raw, env, path);
}
