import { envInt } from "@fusion/runtime";
import { z } from "zod";

export const panelEnvSchema = z.object({
  PANEL_CONCURRENCY: envInt(64, 1, 10_000),
  /** The panel stage's deadline: a panelist still working then is counted as failed, and the judge goes on. */
  PANEL_TIMEOUT_MS: envInt(180_000, 1),
});
