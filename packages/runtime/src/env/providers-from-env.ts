import { type FusionConfig, loadFusionConfig } from "@fusion/llm-client";
import { invalidConfiguration } from "./common-env.ts";

/**
 * Reads and validates the providers file `FUSION_CONFIG` names: once, at start-up, after the
 * environment was parsed. `${NAME}` references in the file are read from `source`. Undefined without
 * a file. A file that cannot be read or is wrong throws ConfigError naming the variable, the file and
 * the field, so that the service stops at start-up as it does for any other wrong setting.
 */
export function loadProvidersFromEnv(
  env: { FUSION_CONFIG?: string | undefined },
  source: Readonly<Record<string, string | undefined>> = process.env,
): FusionConfig | undefined {
  const path = env.FUSION_CONFIG;
  if (!path) return undefined;
  try {
    return loadFusionConfig(path, source);
  } catch (err) {
    throw invalidConfiguration([["FUSION_CONFIG", err instanceof Error ? err.message : String(err)]]);
  }
}
