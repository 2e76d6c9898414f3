import { startSimulator } from "./server.ts";

const port = Number(process.env.PORT ?? "0");
const host = process.env.HOST ?? "127.0.0.1";

const simulator = await startSimulator({ port: Number.isInteger(port) ? port : 0, host });
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
