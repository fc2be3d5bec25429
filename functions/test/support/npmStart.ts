/**
 * Runs what `npm start` runs (local/start.ts) on free ports, in its own process group, with extra
 * environment for the functions, and parses the addresses it prints.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import type { ClientOptions } from "../../../local/client.js";

const ROOT = path.resolve(__dirname, "../../..");
const TSX_CLI = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");

export interface RunningStart {
  pid: number;
  env: Record<string, string>;
  clientOptions: ClientOptions;
  /** The demo web console's address, as printed. */
  webUrl: string;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startNpmStart(extraEnv: Record<string, string> = {}, timeoutMs = 180_000): Promise<RunningStart> {
  const child = spawn(process.execPath, [TSX_CLI, "local/start.ts"], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ...extraEnv, LOCAL_FREE_PORTS: "1", npm_lifecycle_event: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const started = Date.now();
  while (!output.includes("Press Ctrl-C to stop.")) {
    if (child.exitCode !== null) throw new Error(`local/start.ts exited:\n${output.slice(-3000)}`);
    if (Date.now() - started > timeoutMs) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`local/start.ts not ready in ${timeoutMs} ms:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const env = Object.fromEntries([...output.matchAll(/export (\w+)='([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
  Object.assign(process.env, env);
  const port = (hostPort: string) => Number(hostPort.split(":").pop());
  return {
    pid: child.pid!,
    env,
    clientOptions: { authPort: port(env.FIREBASE_AUTH_EMULATOR_HOST!), functionsPort: port(env.FUNCTIONS_EMULATOR_ORIGIN!) },
    webUrl: /Web console: (http:\/\/\S+)/.exec(output)?.[1] ?? "",
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null) return;
      process.kill(child.pid!, "SIGTERM");
      const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
