import { fileURLToPath } from "node:url";

/** Absolute path of the built lab (`vite build` writes `packages/lab/dist`): what the gateway serves at /lab. */
export const labDistDir = fileURLToPath(new URL("../dist/", import.meta.url));
