import { startSimulator } from "./server.ts";

const port = Number(process.env.PORT ?? "0");
const host = process.env.HOST ?? "127.0.0.1";
// The control API (/_sim/*) needs `Authorization: Bearer $SIM_CONTROL_TOKEN`; unset, a random token
// nobody holds (the control API is then closed), so web_fetch of the pages cannot read it either way.
const controlToken = process.env.SIM_CONTROL_TOKEN?.trim() || undefined;

const simulator = await startSimulator({ port: Number.isInteger(port) ? port : 0, host, controlToken });
process.stdout.write(`${JSON.stringify({ service: "simulator", msg: "listening", url: simulator.url })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  simulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
