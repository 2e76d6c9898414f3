import { Hono } from "hono";
import { z } from "zod";
import { roleSchema, scriptSchema } from "./script.ts";
import type { SimulatorState } from "./state.ts";

function jsonBody(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

const searchToggleSchema = z.strictObject({ fail: z.boolean() });
const braveTokenSchema = z.strictObject({ token: z.string().min(1).nullable() });

/** The control API, mounted under `/_sim`. */
export function controlRoutes(state: SimulatorState): Hono {
  const control = new Hono();

  control.get("/health", (c) => c.json({ ok: true }));

  control.get("/scripts", (c) => c.json({ scripts: Object.fromEntries(state.scripts) }));

  control.put("/scripts/:model", async (c) => {
    const model = c.req.param("model");
    const body = jsonBody(await c.req.text());
    if (!body.ok) return c.json({ error: { code: 400, message: "body is not valid JSON" } }, 400);
    const parsed = scriptSchema.safeParse(body.value);
    if (!parsed.success) {
      return c.json({ error: { code: 400, message: z.prettifyError(parsed.error) } }, 400);
    }
    state.setScript(model, parsed.data);
    return c.json({ ok: true, model, script: parsed.data });
  });

  control.delete("/scripts/:model", (c) => {
    state.deleteScript(c.req.param("model"));
    return c.json({ ok: true });
  });

  control.delete("/scripts", (c) => {
    state.clearScripts();
    return c.json({ ok: true });
  });

  control.get("/requests", (c) => {
    const model = c.req.query("model") || undefined;
    const roleParam = c.req.query("role") || undefined;
    const role = roleParam === undefined ? undefined : roleSchema.safeParse(roleParam);
    if (role && !role.success)
      return c.json({ error: { code: 400, message: `unknown role ${roleParam}` } }, 400);
    return c.json({ requests: state.listRequests({ model, role: role?.data }) });
  });

  control.get("/request-counts", (c) => c.json(state.requestCounts()));

  control.delete("/requests", (c) => {
    state.clearRequests();
    return c.json({ ok: true });
  });

  control.post("/search", async (c) => {
    const body = jsonBody(await c.req.text());
    const parsed = body.ok ? searchToggleSchema.safeParse(body.value) : null;
    if (!parsed?.success) return c.json({ error: { code: 400, message: 'expected {"fail": boolean}' } }, 400);
    state.search.fail = parsed.data.fail;
    return c.json({ ok: true, search: { fail: state.search.fail } });
  });

  control.put("/brave-token", async (c) => {
    const body = jsonBody(await c.req.text());
    const parsed = body.ok ? braveTokenSchema.safeParse(body.value) : null;
    if (!parsed?.success) {
      return c.json({ error: { code: 400, message: 'expected {"token": string | null}' } }, 400);
    }
    state.search.braveToken = parsed.data.token;
    return c.json({ ok: true });
  });

  return control;
}
