import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/** Where `vite` and `vite preview` send /api while developing: a running gateway. */
const gateway = process.env.LAB_GATEWAY_URL ?? "http://127.0.0.1:8080";

// The lab is served by the gateway at /lab: hashed files under dist/assets, no inline script or style
// (the gateway's Content-Security-Policy allows neither), no data: URLs.
export default defineConfig({
  base: "/lab/",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    target: "es2022",
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/api": gateway } },
  preview: { proxy: { "/api": gateway } },
});
