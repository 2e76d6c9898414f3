import type { KeyLimits } from "@fusion/runtime";
import { createFactory } from "hono/factory";
import type { RequestIdVariables } from "hono/request-id";

/** What every handler of the gateway finds on its context. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    /** The caller: the first 16 hex characters of its API key's SHA-256, or "open" without keys. */
    keyId: string;
    keyLimits?: KeyLimits;
  };
};

/** Builds the app, its routes and middleware typed with `AppEnv`, so that no route imports the app. */
export const factory = createFactory<AppEnv>();
