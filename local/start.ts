/**
 * `npm start`: the whole local stack, seeded, until Ctrl-C / SIGTERM (then nothing is left running).
 * Env: LOCAL_EMULATORS=offline|official|auto (default auto), LOCAL_QUIET=1 hides the CLI output,
 * LOCAL_FREE_PORTS=1 picks free ports instead of firebase.json's. LOCAL_WEB_PORT: the web console's
 * port (default 5173; a free one if that is taken or under LOCAL_FREE_PORTS).
 */
import { readFileSync } from "node:fs";
import { requireFromFunctions, startLocalStack, type LocalStack } from "./stack";
import { RUNTIME_CONFIG, seedRuntimeConfig } from "./seed";
import { startWebConsole, type WebConsole } from "./webConsole";
import { runtimeConfigSchema } from "../functions/src/config/runtimeConfigSchema";

export { RUNTIME_CONFIG, seedRuntimeConfig };

function printTable(stack: LocalStack, projectId: string, web: WebConsole) {
  const h = "127.0.0.1";
  const impl = stack.implementation;
  const rows: [string, string, string][] = [];
  if (stack.services.includes("firestore")) {
    rows.push([
      "Firestore",
      `${h}:${stack.ports.firestore}`,
      impl.firestore === "official"
        ? "official emulator (Java, via CLI)"
        : "offline replacement: @firestore-emulator/server store + local gRPC service (in-process)",
    ]);
  }
  if (stack.services.includes("storage")) {
    rows.push([
      "Storage",
      `${h}:${stack.ports.storage}`,
      impl.storage === "official"
        ? "official emulator (via CLI, Java rules)"
        : "offline replacement: firebase-tools Storage emulator in-process, no rules (admin only)",
    ]);
  }
  if (stack.services.includes("auth")) rows.push(["Auth", `${h}:${stack.ports.auth}`, "firebase-tools CLI"]);
  if (stack.services.includes("functions")) {
    rows.push(["Functions", `${h}:${stack.ports.functions}`, `firebase-tools CLI, Node 22; callables: /${projectId}/us-central1/<name>`]);
  }
  if (stack.services.includes("tasks")) rows.push(["Cloud Tasks", `${h}:${stack.ports.tasks}`, "firebase-tools CLI"]);
  if (stack.startupMs.cli !== undefined) rows.push(["Hub", `${h}:${stack.ports.hub}`, "firebase-tools CLI (GET /emulators)"]);

  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ["Service", "Address", "Implementation"][i].length));
  const line = (cells: string[]) => `│ ${cells.map((c, i) => c.padEnd(widths[i])).join(" │ ")} │`;
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r;
  console.log(`\nLocal Firebase stack for project ${projectId}: ready in ${(stack.startupMs.total / 1000).toFixed(1)} s`);
  console.log(rule("┌", "┬", "┐"));
  console.log(line(["Service", "Address", "Implementation"]));
  console.log(rule("├", "┼", "┤"));
  for (const r of rows) console.log(line(r));
  console.log(rule("└", "┴", "┘"));
  console.log("Seeded: config/runtime. Environment for clients / admin SDK:");
  for (const [k, v] of Object.entries(stack.env)) console.log(`  export ${k}='${v}'`);
  const open = `  Web console: ${web.url}  `;
  console.log(`\n╔${"═".repeat(open.length)}╗\n║${open}║\n╚${"═".repeat(open.length)}╝`);
  console.log("Open it in a browser: sign in, send a sample face, read its privacy receipt.");
  console.log("Press Ctrl-C to stop.\n");
}

/**
 * Under `npm start` the chain is npm -> sh -> tsx -> this process, and a SIGTERM to npm kills npm
 * and sh without reaching us. So we watch that chain (up to the npm process) and stop if any of
 * it disappears. Not when run directly: then signals reach us (tsx relays them).
 */
function watchNpmAncestors(onGone: () => void) {
  if (!process.env.npm_lifecycle_event) return;
  const parentOf = (pid: number) =>
    Number(
      readFileSync(`/proc/${pid}/stat`, "utf8")
        .replace(/^.*\) /, "")
        .split(" ")[1],
    );
  const chain: number[] = [];
  try {
    for (let pid = process.ppid; pid > 1 && chain.length < 8; pid = parentOf(pid)) {
      chain.push(pid);
      if (/\bnpm\b|npm-cli/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"))) break;
    }
  } catch {
    return; // no /proc: rely on signals
  }
  const timer = setInterval(() => {
    const gone = chain.some((pid) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    if (gone) onGone();
  }, 1000);
  timer.unref();
}

async function main() {
  const projectId = "demo-photo-fixer";
  const quiet = process.env.LOCAL_QUIET === "1";

  // Signals are handled from the start: if one arrives while starting, we stop once started.
  let stack: LocalStack | undefined;
  let web: WebConsole | undefined;
  let stopping: string | undefined;
  let stopStarted = false;
  const shutdown = async (why: string) => {
    stopping ??= why;
    if (!stack || stopStarted) return; // not started yet: main() stops it once started
    stopStarted = true;
    console.log(`\n${why}: stopping the local stack...`);
    await web?.stop();
    await stack.stop();
    console.log("Stopped.");
    process.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void shutdown(sig));
  watchNpmAncestors(() => void shutdown("npm exited"));

  stack = await startLocalStack({
    projectId,
    // Tests start their own `npm start` beside a developer's: any free ports, printed below.
    ...(process.env.LOCAL_FREE_PORTS === "1" && { ports: { firestore: 0, storage: 0, auth: 0, functions: 0, tasks: 0, hub: 0, logging: 0 } }),
    onCliOutput: quiet ? undefined : (line) => console.log(`[firebase] ${line}`),
  });
  if (stopping) return shutdown(stopping);

  // Seed through the admin SDK over the wire, exactly as the functions will read it.
  Object.assign(process.env, stack.env);
  const { initializeApp } = requireFromFunctions("firebase-admin/app") as typeof import("firebase-admin/app");
  const { getFirestore } = requireFromFunctions("firebase-admin/firestore") as typeof import("firebase-admin/firestore");
  const db = getFirestore(initializeApp({ projectId }, "local-start"));
  try {
    await seedRuntimeConfig(db);
    web = await startWebConsoleOnPort(stack, projectId, async () => runtimeConfigSchema.parse((await db.doc("config/runtime").get()).data() ?? {}));
  } catch (err) {
    await stack.stop();
    throw err;
  }
  if (stopping) return shutdown(stopping);

  printTable(stack, projectId, web);
}

/** The demo page (web/) on LOCAL_WEB_PORT or 5173, or on a free port when that one is taken. */
async function startWebConsoleOnPort(
  stack: LocalStack,
  projectId: string,
  providerChoices: () => Promise<{ enabledProviders: string[]; defaults: Partial<Record<string, { provider: string }>> }>,
) {
  const options = { host: "127.0.0.1", projectId, ports: stack.ports, providerChoices };
  const wanted = process.env.LOCAL_FREE_PORTS === "1" ? 0 : Number(process.env.LOCAL_WEB_PORT ?? 5173);
  try {
    return await startWebConsole({ ...options, port: wanted });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    console.log(`Port ${wanted} is taken: the web console uses a free port instead.`);
    return startWebConsole({ ...options, port: 0 });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error("local stack failed to start:", err);
    process.exit(1);
  });
}
