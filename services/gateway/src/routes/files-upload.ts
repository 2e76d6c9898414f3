import { countJsonlLines, newFileId } from "@fusion/intake";
import type { KeyLimits } from "@fusion/runtime";
import { FusionError } from "@fusion/wire";
import type { Hono } from "hono";
import { apiKeyAuth } from "../auth/api-key-auth.ts";
import type { OwnerIdOf } from "../auth/owner-id.ts";
import type { GatewayDeps } from "../deps.ts";
import { type AppEnv, factory } from "../factory.ts";
import { keyLimitsMiddleware } from "../limits/key-limits-middleware.ts";
import { requestBodyLimit } from "../request/body-limit.ts";

/** Room the multipart framing (boundaries, part headers, the purpose field) takes beside the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * `POST /files`: a batch input file, uploaded as OpenAI's SDK sends it (`multipart/form-data` with
 * `file` and `purpose: batch`). Mounted before the JSON-only API with its own middleware: the key,
 * the per-key limits, and a body limit of BATCH_MAX_FILE_BYTES (413 beyond). A file of more than
 * BATCH_MAX_LINES request lines is refused (400), as is one its key has no room for.
 */
export function filesUploadRoute(deps: GatewayDeps, keyLimits: KeyLimits, ownerId: OwnerIdOf): Hono<AppEnv> {
  const { env } = deps;
  const maxBytes = env.BATCH_MAX_FILE_BYTES;
  const upload = factory.createApp();
  upload.post(
    "/files",
    apiKeyAuth(env.GATEWAY_API_KEYS, ownerId),
    keyLimitsMiddleware(keyLimits, deps.logger),
    requestBodyLimit(maxBytes + MULTIPART_OVERHEAD),
    async (c) => {
      if (!/^multipart\/form-data\s*;/i.test(c.req.header("content-type") ?? ""))
        throw new FusionError(
          "unsupported_media_type",
          "upload a file as multipart/form-data with the fields file and purpose",
        );
      let form: FormData;
      try {
        form = await c.req.formData();
      } catch {
        throw new FusionError("bad_request", "the multipart body could not be read");
      }
      const purpose = form.get("purpose");
      if (purpose !== "batch")
        throw new FusionError("bad_request", 'invalid request: purpose: only "batch" files are accepted');
      const file = form.get("file");
      if (!(file instanceof File))
        throw new FusionError("bad_request", "invalid request: file: a file is required");
      if (file.size > maxBytes)
        throw new FusionError(
          "payload_too_large",
          `the file exceeds ${maxBytes} bytes (BATCH_MAX_FILE_BYTES)`,
        );
      const content = new Uint8Array(await file.arrayBuffer());
      const lines = countJsonlLines(content);
      if (lines > env.BATCH_MAX_LINES)
        throw new FusionError(
          "bad_request",
          `the file has ${lines} request lines; a batch takes at most ${env.BATCH_MAX_LINES} (BATCH_MAX_LINES)`,
        );
      const object = await deps.files.upload({
        id: newFileId(),
        owner: c.get("keyId"),
        filename: file.name || "input.jsonl",
        purpose: "batch",
        content,
      });
      return c.json(object);
    },
  );
  return upload;
}
