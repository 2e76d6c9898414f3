import { Hono } from "hono";
import { handleBraveSearch } from "./brave-search.ts";
import { handleChatCompletions } from "./chat-route.ts";
import { controlRoutes } from "./control-routes.ts";
import { randomControlToken, requireControlToken } from "./control-token.ts";
import { handlePage } from "./pages.ts";
import { handleSearch } from "./search.ts";
import { SimulatorState } from "./state.ts";

const CHAT_PATHS = ["/v1/chat/completions", "/api/v1/chat/completions", "/chat/completions"];
const RECORDED_PREFIXES = ["/v1/*", "/api/v1/*", "/chat/*"];

export interface SimulatorAppOptions {
  /** What the control API (`/_sim/*`) requires as `Authorization: Bearer`; default a random one. */
  controlToken?: string;
}

/** The simulator as a Hono app; pass a state to inspect or script it in-process. */
export function createSimulatorApp(
  state: SimulatorState = new SimulatorState(),
  options: SimulatorAppOptions = {},
): Hono {
  const app = new Hono();

  for (const path of CHAT_PATHS) app.post(path, (c) => handleChatCompletions(c, state));

  // Any other request under the API prefixes is recorded too, and answered 404.
  for (const prefix of RECORDED_PREFIXES) {
    app.all(prefix, async (c) => {
      const text = await c.req.text();
      let body: unknown = null;
      try {
        body = text === "" ? null : JSON.parse(text);
      } catch {
        body = null;
      }
      const model =
        typeof body === "object" && body !== null && "model" in body && typeof body.model === "string"
          ? body.model
          : null;
      state.record({ path: c.req.path, model, role: null, stream: false, headers: c.req.header(), body });
      return c.json({ error: { code: 404, message: `no route for ${c.req.method} ${c.req.path}` } }, 404);
    });
  }

  app.get("/search", (c) => handleSearch(c, state));
  app.get("/res/v1/web/search", (c) => handleBraveSearch(c, state));
  app.get("/pages/:slug", (c) => handlePage(c));
  app.use("/_sim/*", requireControlToken(options.controlToken ?? randomControlToken()));
  app.route("/_sim", controlRoutes(state));

  return app;
}
