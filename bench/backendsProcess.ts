/**
 * The offline Firestore and Storage servers in a process of their own, for benches whose measured
 * process must not carry (in its time or its RSS) the servers' work. `env` points firebase-admin at
 * them the way test/support/backends.ts does in-process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = path.resolve(__dirname, "..");
// `node --import tsx` rather than the tsx CLI: the CLI runs the script in a grandchild that a
// SIGKILL of the CLI would leave running.
export const TSX = ["--import", pathToFileURL(path.join(ROOT, "node_modules/tsx/dist/loader.mjs")).href];
export const PROJECT_ID = "demo-photo-fixer";
export const BUCKET = `${PROJECT_ID}.appspot.com`;

export interface BackendsProcess {
  env: NodeJS.ProcessEnv;
  /** The Storage emulator itself, bypassing the latency proxy if there is one. */
  storageHostPort: string;
  stop(): void;
}

/**
 * With `latencyProxy`, firebase-admin reaches Storage through a proxy in the servers' process that
 * holds every request for a settable delay before forwarding it (`POST /__bench/delay?ms=N`,
 * default 0): a modelled network round trip, which costs the server no CPU while it waits.
 */
export async function startBackendsProcess(options: { latencyProxy?: boolean } = {}): Promise<BackendsProcess> {
  const child = spawn(
    process.execPath,
    [
      ...TSX,
      "-e",
      `
    Promise.all([import("./local/firestore-server.ts"), import("./local/storage-emulator.ts"), import("./bench/latencyProxy.ts")]).then(async ([fs, st, lp]) => {
      const firestore = await fs.startFirestoreServer({ port: await st.freePort() });
      const storage = await st.startStorageEmulator({ port: 0, projectId: "${PROJECT_ID}" });
      const proxy = ${options.latencyProxy ? "await lp.startLatencyProxy(storage.port)" : "storage.hostPort"};
      console.log("READY " + firestore.hostPort + " " + storage.hostPort + " " + proxy);
    });`,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    const [firestore, direct, storage] = await readyLine(child, 3);
    return {
      env: {
        ...process.env,
        GCLOUD_PROJECT: PROJECT_ID,
        FIREBASE_CONFIG: JSON.stringify({ projectId: PROJECT_ID, storageBucket: BUCKET }),
        FIRESTORE_EMULATOR_HOST: firestore,
        FIREBASE_STORAGE_EMULATOR_HOST: storage,
        STORAGE_EMULATOR_HOST: `http://${storage}`,
        METADATA_SERVER_DETECTION: "none",
      },
      storageHostPort: direct!,
      stop: () => child.kill("SIGKILL"),
    };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/** The words after "READY " on the child's stdout. */
export function readyLine(child: ChildProcess, words = 1): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /READY ([^\n]+)\n/.exec(out);
      if (m) resolve(m[1]!.trim().split(" ").slice(0, words));
    });
    child.once("exit", () => reject(new Error("a bench process exited before it was ready")));
  });
}
