/**
 * Instances as Cloud Run runs them, for the load harness (docs/LOAD.md "Instances").
 *
 * The Functions emulator ignores `concurrency`: it starts one worker process per request in flight,
 * so under load it measures worker cold starts and never shows one instance serving many calls.
 * Here each instance is the runtime Cloud Functions (2nd gen) itself runs, the Functions Framework
 * (`@google-cloud/functions-framework`: Express, the same body parsing and 32 MiB limit), loading
 * the built functions with the emulator's environment (unsigned emulator tokens, the local stack's
 * hosts). A router in front does what Cloud Run's front end does and no library here does: it hands
 * each request to an instance with a free slot under the function's declared concurrency, fills
 * instances in order (a burst lands on one instance), and queues requests when every slot is taken.
 * A function without a pool here (pollJob's Cloud Tasks queue, cancelJob, …) goes on to the
 * Functions emulator. A dead instance's requests are answered 503 and the instance is replaced.
 *
 * The pool is fixed and started warm: scale-out and cold starts are measured elsewhere (the
 * emulator run, `npm run bench` cold start); this measures the steady state of warm instances.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { freePort } from "../local/storage-emulator";

const ROOT = path.resolve(__dirname, "..");
const NODE = path.join(ROOT, "node_modules", ".bin", "node"); // Node 22, the runtime's version
const FRAMEWORK = path.join(ROOT, "node_modules", "@google-cloud", "functions-framework", "build", "src", "main.js");

/** A process killed by a signal has a null exitCode and a signalCode. */
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

export interface PoolSpec {
  /** The exported function's name (also the URL's last segment). */
  name: string;
  instances: number;
  /** Requests one instance serves at once (the function's declared `concurrency`). */
  concurrency: number;
  /** The declared memory, for the RSS budget (MiB). */
  memoryMib: number;
}

export interface Instance {
  name: string;
  index: number;
  port: number;
  child: ChildProcess;
  inFlight: number;
  /** Most requests this instance held at once. */
  peakInFlight: number;
  served: number;
}

export interface InstanceHost {
  port: number;
  instances: Instance[];
  specs: PoolSpec[];
  /** Requests waiting for a slot, per function, at most at once. */
  peakQueued: Record<string, number>;
  /**
   * Holds the next `count` requests for `name` at the router, each with its slot, until all of them
   * are there (or `deadlineMs` after the first), then forwards them together: the instance receives
   * a burst at once however slowly the clients send it. Resolves with how many it held together.
   */
  gather(name: string, count: number, deadlineMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** The params file the emulator loads (`functions/.env.local`), as KEY=VALUE lines. */
export function paramsFromDotEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path.join(ROOT, "functions", ".env.local"), "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!alive(child)) throw new Error(`instance on port ${port} exited (${child.exitCode ?? child.signalCode})`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`instance on port ${port} did not start in ${timeoutMs} ms`);
}

export async function startInstanceHost(opts: {
  pools: PoolSpec[];
  /** The local stack's variables (emulator hosts, project) and the providers' settings. */
  env: Record<string, string | undefined>;
  /** Where every other function is served: the Functions emulator. */
  emulatorPort: number;
  onOutput?: (line: string) => void;
}): Promise<InstanceHost> {
  const instances: Instance[] = [];
  const specs = new Map(opts.pools.map((p) => [p.name, p]));
  const queues = new Map<string, (() => void)[]>(opts.pools.map((p) => [p.name, []]));
  const peakQueued: Record<string, number> = {};

  const start = async (spec: PoolSpec, index: number): Promise<Instance> => {
    const port = await freePort("127.0.0.1");
    // LOAD_CPU_PROFILE_DIR: each instance writes a V8 CPU profile there when stopped.
    const profile = process.env.LOAD_CPU_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.LOAD_CPU_PROFILE_DIR}`] : [];
    const child = spawn(
      NODE,
      [...profile, FRAMEWORK, `--target=${spec.name}`, "--signature-type=http", `--port=${port}`, `--source=${path.join(ROOT, "functions")}`],
      {
        env: {
          ...opts.env,
          ...paramsFromDotEnv(),
          // What the Functions emulator gives its workers (functionsEmulator.js getEmulatorEnvs).
          FUNCTIONS_EMULATOR: "true",
          TZ: "UTC",
          FIREBASE_DEBUG_MODE: "true",
          FIREBASE_DEBUG_FEATURES: JSON.stringify({ skipTokenVerification: true, enableCors: true }),
          K_SERVICE: spec.name,
          K_REVISION: "1",
          FUNCTION_TARGET: spec.name,
          FUNCTION_SIGNATURE_TYPE: "http",
          PORT: String(port),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    for (const stream of [child.stdout!, child.stderr!]) stream.on("data", (b: Buffer) => opts.onOutput?.(`[${spec.name}#${index}] ${b.toString().trimEnd()}`));
    await waitForPort(port, child, 60_000);
    return { name: spec.name, index, port, child, inFlight: 0, peakInFlight: 0, served: 0 };
  };
  for (const spec of opts.pools) instances.push(...(await Promise.all(Array.from({ length: spec.instances }, (_, i) => start(spec, i)))));

  // An instance that dies (killed by a chaos fault) is replaced, as Cloud Run starts a new one; the
  // requests it held were answered 503 by forward() below.
  let stopping = false;
  const replaceWhenDead = (instance: Instance) =>
    instance.child.once("exit", () => {
      if (stopping) return;
      const spec = specs.get(instance.name)!;
      void start(spec, instance.index).then(
        (fresh) => {
          instances[instances.indexOf(instance)] = fresh;
          replaceWhenDead(fresh);
          queues
            .get(instance.name)!
            .splice(0)
            .forEach((wake) => wake());
        },
        (error: unknown) => opts.onOutput?.(`[${instance.name}#${instance.index}] could not be replaced: ${String(error)}`),
      );
    });
  instances.forEach(replaceWhenDead);

  /** The first instance (in order) with a free slot: Cloud Run fills busy instances before idle ones. */
  const freeInstance = (name: string) => instances.find((i) => i.name === name && i.inFlight < specs.get(name)!.concurrency && alive(i.child));

  const acquire = async (name: string): Promise<Instance> => {
    for (;;) {
      const instance = freeInstance(name);
      if (instance) {
        instance.inFlight++;
        instance.peakInFlight = Math.max(instance.peakInFlight, instance.inFlight);
        return instance;
      }
      const queue = queues.get(name)!;
      await new Promise<void>((resolve) => {
        queue.push(resolve);
        peakQueued[name] = Math.max(peakQueued[name] ?? 0, queue.length);
      });
    }
  };
  const release = (instance: Instance) => {
    instance.inFlight--;
    instance.served++;
    queues.get(instance.name)!.shift()?.();
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, port: number, done: () => void) => {
    // A connection per request (agent: false): a kept-alive socket the instance has just timed out
    // would fail the next request with ECONNRESET, a harness artefact Cloud Run's front end avoids.
    const upstream = http.request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // A client that gave up does not end the instance's request: drain the answer so it can end.
      res.once("close", () => answer.resume());
    });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    // The slot is held until the instance's request ends, not the client's: the request keeps
    // running on the instance after its client leaves, and counts against its concurrency.
    upstream.once("close", finish);
    // A dead instance: Cloud Run answers for it (503), never our code.
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(503, { "content-type": "text/plain" }).end("instance unavailable");
      else res.destroy();
      finish();
    });
    req.pipe(upstream);
  };

  /** Per function, the gathering in progress (InstanceHost.gather): requests held, each with its slot. */
  interface Gathering {
    count: number;
    deadlineMs: number;
    held: (() => void)[];
    timer?: NodeJS.Timeout;
    done: (held: number) => void;
  }
  const gatherings = new Map<string, Gathering>();
  const forwardAll = (name: string) => {
    const gathering = gatherings.get(name);
    if (!gathering) return;
    gatherings.delete(name);
    clearTimeout(gathering.timer);
    gathering.done(gathering.held.length);
    for (const go of gathering.held) go();
  };
  const gather = (name: string, count: number, deadlineMs = 60_000) => {
    if (!specs.has(name)) throw new Error(`no pool for ${name}`);
    return new Promise<number>((done) => gatherings.set(name, { count, deadlineMs, held: [], done }));
  };

  const router = http.createServer((req, res) => {
    const name = (req.url ?? "").split("?")[0]!.split("/").pop() ?? "";
    if (!specs.has(name)) return forward(req, res, opts.emulatorPort, () => undefined);
    req.pause();
    void acquire(name).then((instance) => {
      const go = () => {
        req.resume();
        forward(req, res, instance.port, () => release(instance));
      };
      const gathering = gatherings.get(name);
      if (!gathering) return go();
      gathering.held.push(go);
      gathering.timer ??= setTimeout(() => forwardAll(name), gathering.deadlineMs);
      if (gathering.held.length >= gathering.count) forwardAll(name);
    });
  });
  router.keepAliveTimeout = 65_000;
  const port = await freePort("127.0.0.1");
  await new Promise<void>((resolve) => router.listen(port, "127.0.0.1", resolve));

  return {
    port,
    instances,
    specs: opts.pools,
    peakQueued,
    gather,
    stop: async () => {
      stopping = true;
      await new Promise<void>((resolve) => {
        router.close(() => resolve());
        router.closeAllConnections();
      });
      if (process.env.LOAD_CPU_PROFILE_DIR) {
        await Promise.all(instances.map((i) => new Promise((resolve) => i.child.once("exit", resolve).kill("SIGTERM"))));
      } else for (const i of instances) i.child.kill("SIGKILL");
    },
  };
}
