/**
 * The local Firebase stack, offline (see docs ARCHITECTURE.md §9):
 *  - Firestore: our gRPC server (./firestore-server) in this process, or the official emulator;
 *  - Storage: firebase-tools' Storage emulator in this process (./storage-emulator), or official;
 *  - Auth, Functions, Cloud Tasks: the firebase-tools CLI (`emulators:start`) as a child process
 *    group, on Node 22 from the `node` devDependency.
 * The Functions runtime inherits the CLI's environment (firebase-tools spreads process.env into
 * it and only overrides variables of emulators the CLI itself runs), so setting
 * FIRESTORE_EMULATOR_HOST / FIREBASE_STORAGE_EMULATOR_HOST on the CLI points functions at us.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import * as path from "node:path";
import { startFirestoreServer, type LocalFirestore } from "./firestore-server";
import { freePort, makeScratchDir, startStorageEmulator, type LocalStorage } from "./storage-emulator";

export const ROOT = path.resolve(__dirname, "..");
const NODE_BIN_DIR = path.join(ROOT, "node_modules", ".bin"); // `node` here is Node 22
const FIREBASE_CLI = path.join(ROOT, "node_modules", "firebase-tools", "lib", "bin", "firebase.js");

/** `require` resolving from the functions package (firebase-admin is installed only there). */
export const requireFromFunctions = createRequire(path.join(ROOT, "functions", "package.json"));

export type Service = "firestore" | "storage" | "auth" | "functions" | "tasks";
export const ALL_SERVICES: Service[] = ["firestore", "storage", "auth", "functions", "tasks"];
export type Ports = Record<Service | "hub" | "logging", number>;
/** offline: our replacements; official: Java emulators via the CLI; auto: official if available. */
export type EmulatorChoice = "offline" | "official" | "auto";

export interface StackOptions {
  /** Services to start (default: all). Without auth/functions/tasks the CLI is not started. */
  only?: Service[];
  projectId?: string; // default: demo-photo-fixer
  host?: string; // default: 127.0.0.1
  /** Port overrides (0 = pick a free port); defaults come from firebase.json. */
  ports?: Partial<Ports>;
  /** Default: $LOCAL_EMULATORS or "auto" (here: offline, no Java 21). */
  emulators?: EmulatorChoice;
  /** Directory with the firebase.json to use (default: the repository root). */
  projectDir?: string;
  /** Receives each output line of the firebase CLI (default: discarded; see logFile). */
  onCliOutput?: (line: string) => void;
  startTimeoutMs?: number; // default: 90 s
}

export interface LocalStack {
  /** Variables for clients (admin SDK, tests, other processes) to reach the stack. */
  env: Record<string, string>;
  ports: Ports;
  services: Service[];
  implementation: { firestore?: "offline" | "official"; storage?: "offline" | "official" };
  /** In-process servers (offline mode only): `.reset()` clears their data. */
  firestore?: LocalFirestore;
  storage?: LocalStorage;
  /** Milliseconds each part took to become ready. */
  startupMs: { firestore?: number; storage?: number; cli?: number; total: number };
  /** The CLI's firebase-debug.log (deleted by stop()). */
  logFile?: string;
  /** Clears Firestore and Storage data (either implementation). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

/** Official Java emulators need Java >= 21 and the jars firebase-tools downloads on first use. */
export function officialEmulatorsAvailable(): { available: boolean; reason: string } {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${java.stderr}${java.stdout}`);
  const major = m ? (m[1] === "1" ? Number(m[2]) : Number(m[1])) : 0;
  if (!major) return { available: false, reason: "no java on PATH" };
  if (major < 21) return { available: false, reason: `java ${major} < 21` };
  // Same location firebase-tools uses (FIREBASE_EMULATORS_PATH or ~/.cache/firebase/emulators).
  const dir = process.env.FIREBASE_EMULATORS_PATH ?? path.join(homedir(), ".cache", "firebase", "emulators");
  const jars = existsSync(dir) ? readdirSync(dir) : [];
  const missing = ["cloud-firestore-emulator", "cloud-storage-rules-runtime"].filter((p) => !jars.some((j) => j.startsWith(p) && j.endsWith(".jar")));
  if (missing.length) return { available: false, reason: `missing in ${dir}: ${missing.join(", ")}` };
  return { available: true, reason: `java ${major}, jars in ${dir}` };
}

function configuredPorts(projectDir: string): Ports {
  const emu = JSON.parse(readFileSync(path.join(projectDir, "firebase.json"), "utf8")).emulators ?? {};
  return {
    firestore: emu.firestore?.port ?? 8080,
    storage: emu.storage?.port ?? 9199,
    auth: emu.auth?.port ?? 9099,
    functions: emu.functions?.port ?? 5001,
    tasks: emu.tasks?.port ?? 9499,
    hub: emu.hub?.port ?? 4400,
    logging: emu.logging?.port ?? 4500,
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, failed?: () => string | undefined) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = failed?.();
    if (why) throw new Error(`${what}: ${why}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms`);
}

const httpOk = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status < 500);

/** Kills a detached child's whole process group: SIGTERM, then SIGKILL after `graceMs`. */
async function killGroup(child: ChildProcess, graceMs = 10_000) {
  const pgid = child.pid!;
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pgid, "SIGTERM");
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      /* already gone */
    }
    while (alive()) await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------

export async function startLocalStack(opts: StackOptions = {}): Promise<LocalStack> {
  const t0 = Date.now();
  const services = opts.only ?? ALL_SERVICES;
  const projectId = opts.projectId ?? "demo-photo-fixer";
  const host = opts.host ?? "127.0.0.1";
  const projectDir = path.resolve(opts.projectDir ?? ROOT);
  const timeout = opts.startTimeoutMs ?? 90_000;
  const choice = opts.emulators ?? (process.env.LOCAL_EMULATORS as EmulatorChoice | undefined) ?? "auto";
  const official = choice === "official" || (choice === "auto" && officialEmulatorsAvailable().available);
  if (choice === "official" && !officialEmulatorsAvailable().available) {
    throw new Error(`official emulators unavailable: ${officialEmulatorsAvailable().reason}`);
  }

  const ports = { ...configuredPorts(projectDir), ...opts.ports };
  for (const k of Object.keys(ports) as (keyof Ports)[]) if (ports[k] === 0) ports[k] = await freePort(host);

  const has = (s: Service) => services.includes(s);
  const cliServices = services.filter((s) => official || !["firestore", "storage"].includes(s));
  const stack: LocalStack = {
    env: {
      GCLOUD_PROJECT: projectId,
      GOOGLE_CLOUD_PROJECT: projectId,
      FIREBASE_CONFIG: JSON.stringify({ projectId, storageBucket: `${projectId}.appspot.com` }),
      METADATA_SERVER_DETECTION: "none", // no GCE metadata server probing (offline)
    },
    ports,
    services,
    implementation: {},
    startupMs: { total: 0 },
    reset: async () => {},
    stop: async () => {},
  };
  const cleanups: (() => Promise<void>)[] = [];
  stack.stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((e) => console.error("[stack] stop:", e));
  };

  try {
    if (has("firestore")) {
      stack.implementation.firestore = official ? "official" : "offline";
      stack.env.FIRESTORE_EMULATOR_HOST = `${host}:${ports.firestore}`;
      if (!official) {
        const t = Date.now();
        const fs = (stack.firestore = await startFirestoreServer({ host, port: ports.firestore }));
        cleanups.push(() => fs.stop());
        stack.startupMs.firestore = Date.now() - t;
      }
    }
    if (has("storage")) {
      stack.implementation.storage = official ? "official" : "offline";
      stack.env.FIREBASE_STORAGE_EMULATOR_HOST = `${host}:${ports.storage}`;
      stack.env.STORAGE_EMULATOR_HOST = `http://${host}:${ports.storage}`;
      if (!official) {
        const t = Date.now();
        const st = (stack.storage = await startStorageEmulator({ host, port: ports.storage, projectId }));
        cleanups.push(() => st.stop());
        stack.startupMs.storage = Date.now() - t;
      }
    }
    if (has("auth")) stack.env.FIREBASE_AUTH_EMULATOR_HOST = `${host}:${ports.auth}`;
    if (has("tasks")) stack.env.CLOUD_TASKS_EMULATOR_HOST = `${host}:${ports.tasks}`;
    if (has("functions")) stack.env.FUNCTIONS_EMULATOR_ORIGIN = `http://${host}:${ports.functions}`;

    if (cliServices.length) {
      const t = Date.now();
      await startCli(stack, { projectId, host, projectDir, services: cliServices, timeout, onOutput: opts.onCliOutput, cleanups });
      stack.startupMs.cli = Date.now() - t;
    }
  } catch (err) {
    await stack.stop();
    throw err;
  }

  stack.reset = async () => {
    // The REST endpoint works for both our server and the official emulator.
    if (stack.env.FIRESTORE_EMULATOR_HOST) {
      const url = `http://${stack.env.FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${projectId}/databases/(default)/documents`;
      const res = await fetch(url, { method: "DELETE" });
      if (!res.ok) throw new Error(`firestore reset: HTTP ${res.status}`);
    }
    if (stack.storage) stack.storage.reset();
    else if (stack.env.STORAGE_EMULATOR_HOST) {
      const res = await fetch(`${stack.env.STORAGE_EMULATOR_HOST}/internal/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`storage reset: HTTP ${res.status}`);
    }
  };
  stack.startupMs.total = Date.now() - t0;
  return stack;
}

/** Runs `firebase emulators:start` in its own process group, in a scratch project directory. */
async function startCli(
  stack: LocalStack,
  o: {
    projectId: string;
    host: string;
    projectDir: string;
    services: Service[];
    timeout: number;
    onOutput?: (line: string) => void;
    cleanups: (() => Promise<void>)[];
  },
) {
  const { ports } = stack;
  // A scratch directory mirroring the project (symlinks) with a firebase.json carrying our ports;
  // it is also the CLI's cwd, so firebase-debug.log lands there, not in the repository.
  const runDir = makeScratchDir("local-stack");
  o.cleanups.push(async () => rmSync(runDir, { recursive: true, force: true }));
  for (const entry of readdirSync(o.projectDir)) {
    if (entry !== "firebase.json" && !/^firebase-debug.*\.log$/.test(entry)) {
      symlinkSync(path.join(o.projectDir, entry), path.join(runDir, entry));
    }
  }
  const config = JSON.parse(readFileSync(path.join(o.projectDir, "firebase.json"), "utf8"));
  const at = (port: number) => ({ host: o.host, port });
  config.emulators = {
    ...config.emulators,
    auth: at(ports.auth),
    functions: at(ports.functions),
    tasks: at(ports.tasks),
    firestore: at(ports.firestore),
    storage: at(ports.storage),
    hub: at(ports.hub),
    logging: at(ports.logging),
    ui: { enabled: false },
  };
  writeFileSync(path.join(runDir, "firebase.json"), JSON.stringify(config, null, 2));
  stack.logFile = path.join(runDir, "firebase-debug.log");

  const env: Record<string, string | undefined> = {
    ...process.env,
    ...stack.env,
    PATH: `${NODE_BIN_DIR}${path.delimiter}${process.env.PATH ?? ""}`, // Node 22 for the runtime
    CI: "true", // skips the CLI's "message of the day" fetch (network)
    NO_UPDATE_NOTIFIER: "1", // no npm registry update check
  };
  delete env.FUNCTIONS_EMULATOR_ORIGIN;
  // In official mode the CLI runs Firestore/Storage and sets these for functions itself.
  if (stack.implementation.firestore === "official") delete env.FIRESTORE_EMULATOR_HOST;
  if (stack.implementation.storage === "official") {
    delete env.FIREBASE_STORAGE_EMULATOR_HOST;
    delete env.STORAGE_EMULATOR_HOST;
  }
  const args = [FIREBASE_CLI, "emulators:start", "--only", o.services.join(","), "--project", o.projectId, "--config", "firebase.json", "--non-interactive"];
  const child = spawn(path.join(NODE_BIN_DIR, "node"), args, {
    cwd: runDir,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // If this process dies without stop(), take the CLI group down with it.
  const onExit = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  };
  process.once("exit", onExit);
  o.cleanups.push(async () => {
    await killGroup(child);
    process.removeListener("exit", onExit);
  });

  let output = "";
  let ready = false;
  let exited: string | undefined;
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    if (/All emulators ready/.test(text)) ready = true;
    if (o.onOutput) for (const line of text.split(/\r?\n/)) if (line.trim()) o.onOutput(line);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  child.once("exit", (code, signal) => (exited = `firebase CLI exited (${code ?? signal}) before ready:\n${output.slice(-3000)}`));

  // Ready = the CLI says so and the hub lists every requested emulator.
  await waitFor(
    "firebase emulators",
    async () => {
      if (!ready) return false;
      const res = await fetch(`http://${o.host}:${ports.hub}/emulators`, { signal: AbortSignal.timeout(2000) });
      const running = Object.keys((await res.json()) as Record<string, unknown>);
      return o.services.every((s) => running.includes(s));
    },
    o.timeout,
    () => exited,
  );
  if (o.services.includes("auth")) await waitFor("auth", () => httpOk(`http://${o.host}:${ports.auth}/`), 5000);
}
