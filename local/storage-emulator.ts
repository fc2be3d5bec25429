/**
 * Offline Cloud Storage: firebase-tools' own Storage emulator (pinned firebase-tools 15.34.2),
 * started in this process instead of by the CLI, because the CLI insists on its Java rules
 * runtime (Java >= 21 + a downloaded jar, neither available here). We swap the rules runtime and
 * rules manager for no-ops: the admin SDK (GCS JSON API path) is never rules-checked. Requests
 * through the client (Firebase) API are therefore all denied ("no loaded ruleset").
 *
 * Limitations: one instance per process (firebase-tools' EmulatorRegistry is a singleton);
 * Storage-triggered functions are not dispatched (the Functions emulator runs in the CLI process).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import type * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

// firebase-tools internals (CommonJS, untyped for our purposes).
const { StorageEmulator } = require("firebase-tools/lib/emulator/storage") as {
  StorageEmulator: new (args: Record<string, unknown>) => StorageEmulatorInstance;
};
const { createApp } = require("firebase-tools/lib/emulator/storage/server") as {
  createApp(projectId: string, emulator: unknown): Promise<{ listen(port: number, host: string): http.Server }>;
};
const { EmulatorRegistry } = require("firebase-tools/lib/emulator/registry") as {
  EmulatorRegistry: {
    start(instance: unknown): Promise<void>;
    stop(name: string): Promise<void>;
    isRunning(name: string): boolean;
  };
};

interface StorageEmulatorInstance {
  start(): Promise<void>;
  stop(): Promise<void>;
  reset(): void;
  getInfo(): { host: string; port: number };
  getPersistenceTmpDir(): string;
}

/**
 * A fresh scratch directory `$TMPDIR/<prefix>-<pid>-XXXXXX`; first removes those left behind by
 * processes that died without cleaning up (the pid in the name tells).
 */
export function makeScratchDir(prefix: string): string {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${prefix}-(\\d+)-`).exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
    }
  }
  return mkdtempSync(path.join(tmpdir(), `${prefix}-${process.pid}-`));
}

/** Ports this process has handed out: each is closed again until its server binds it. */
const handedOut = new Set<number>();

/**
 * A port the OS reports free right now (for parallel test runs), never one this process handed out
 * before: the OS may offer a closed port again, and a stack takes several before binding any.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer().once("error", reject);
      srv.listen(0, host, () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

export interface LocalStorage {
  host: string;
  port: number;
  /** "127.0.0.1:9199": FIREBASE_STORAGE_EMULATOR_HOST (STORAGE_EMULATOR_HOST wants http://...). */
  hostPort: string;
  /** Deletes every object and bucket. */
  reset(): void;
  /**
   * Fault injection (the load harness's chaos run): true stops the HTTP server (open connections
   * are cut, new ones refused); false starts it again on the same port, with the same objects.
   */
  setStopped(stopped: boolean): Promise<void>;
  /**
   * Fault injection (tests): the next request `matches` accepts is never answered: the server stops
   * (cutting it and every open connection) and starts again at once, as Storage restarting in the
   * middle of a call. Resolves once it is listening again.
   */
  cutNextRequest(matches: (method: string, url: string) => boolean): Promise<void>;
  stop(): Promise<void>;
}

const noopRulesRuntime = { start: async () => {}, stop: async () => {} };
const noopRulesManager = { start: async () => ({ errors: [], warnings: [], all: [] }), stop: async () => {}, getRuleset: () => undefined };

export async function startStorageEmulator(opts: { host?: string; port?: number; projectId?: string } = {}): Promise<LocalStorage> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port === 0 ? await freePort(host) : (opts.port ?? 9199); // firebase-tools treats 0 as "default"
  if (EmulatorRegistry.isRunning("storage")) throw new Error("a Storage emulator already runs in this process");

  // Per-instance blob dir (the default, $TMPDIR/firebase/storage/blobs, is shared by all runs).
  const blobDir = makeScratchDir("local-storage");
  let server: http.Server | undefined;
  const connections = new Set<net.Socket>();
  class OfflineStorageEmulator extends StorageEmulator {
    // As the base class starts, minus the rules runtime (Java), keeping the server so that
    // setStopped() can stop and restart it without losing the objects.
    async start() {
      const self = this as unknown as { _app: { listen(port: number, host: string): http.Server }; destroyServer?: () => Promise<void> };
      self._app = await createApp(opts.projectId ?? "demo-photo-fixer", this);
      await listen(self._app);
      self.destroyServer = () => close();
    }
    getPersistenceTmpDir() {
      return blobDir;
    }
    // Called by the constructor; the real one compiles rules with the Java runtime.
    createRulesManager() {
      return noopRulesManager;
    }
  }
  const emulator = new OfflineStorageEmulator({
    projectId: opts.projectId ?? "demo-photo-fixer",
    host,
    port,
    rules: [],
    auto_download: false,
  });
  let cut: { matches: (method: string, url: string) => boolean; done: () => void } | undefined;
  const listen = (app: { listen(port: number, host: string): http.Server }) => {
    server = app.listen(port, host);
    // In front of the app: a request to cut never reaches it, and the server restarts.
    const [handle] = server.listeners("request") as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
    server.removeAllListeners("request");
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (!cut?.matches(req.method ?? "", decodeURIComponent(req.url ?? ""))) return handle!(req, res);
      const { done } = cut;
      cut = undefined;
      void close()
        .then(() => listen(app))
        .then(done);
    });
    server.on("connection", (c) => (connections.add(c), c.on("close", () => connections.delete(c))));
    return new Promise<void>((resolve) => server!.once("listening", () => resolve()));
  };
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      for (const c of connections) c.destroy();
      server = undefined;
    });
  // The runtime's constructor only stores state (Java is spawned in start()), so swap it here.
  (emulator as unknown as { _rulesRuntime: unknown })._rulesRuntime = noopRulesRuntime;
  // Registering makes EmulatorRegistry.url("storage") work (used for upload/self links).
  await EmulatorRegistry.start(emulator);
  return {
    host,
    port,
    hostPort: `${host}:${port}`,
    reset() {
      rmSync(blobDir, { recursive: true, force: true }); // reset() alone leaves the blobs on disk
      emulator.reset();
    },
    async setStopped(stopped: boolean) {
      if (stopped) await close();
      else if (!server) await listen((emulator as unknown as { _app: { listen(port: number, host: string): http.Server } })._app);
    },
    cutNextRequest(matches) {
      return new Promise<void>((done) => (cut = { matches, done }));
    },
    async stop() {
      await EmulatorRegistry.stop("storage");
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  // Standalone only: a failure to start or stop is left unhandled on purpose, so Node prints it and exits non-zero.
  void startStorageEmulator({ port: Number(process.argv[2] ?? 9199) }).then((s) => {
    console.log(`Storage (offline, firebase-tools in-process) listening on ${s.hostPort}`);
    const stop = () => void s.stop().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
