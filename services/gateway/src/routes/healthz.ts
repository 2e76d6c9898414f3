import { factory } from "../factory.ts";

/** `GET /healthz`: the process is alive. */
export function healthzRoute() {
  return factory.createApp().get("/healthz", (c) => c.json({ status: "ok" }));
}
