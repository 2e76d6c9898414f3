import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("./main.ts", import.meta.url));

describe("CLI", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it.concurrent(`prints one listening line and exits cleanly on ${signal}`, async () => {
      const child = spawn(process.execPath, [entry], {
        env: { ...process.env, PORT: "0", HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let stdout = "";
      child.stdout.setEncoding("utf8");
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (data: string) => {
          stdout += data;
          if (stdout.includes("\n")) resolve(stdout.slice(0, stdout.indexOf("\n")));
        });
        child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
      });
      const parsed = JSON.parse(line) as { service: string; msg: string; url: string };
      expect(parsed).toEqual({
        service: "simulator",
        msg: "listening",
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      });
      expect(await (await fetch(`${parsed.url}/_sim/health`)).json()).toEqual({ ok: true });

      const exited = once(child, "exit");
      child.kill(signal);
      const [code] = await exited;
      expect(code).toBe(0);
      expect(stdout.trim().split("\n")).toHaveLength(1);
    });
  }
});
