/**
 * `npm run load` / `npm run chaos` (docs/LOAD.md): many anonymous users drive the local stack
 * (local/stack.ts, what `npm start` runs, on free ports) with the Firebase JS client SDK, against a
 * wire-level OpenAI fake answering after a fixed latency (images) and the embedded `local` provider
 * (video, through the Cloud Tasks emulator). Reports throughput, latency percentiles, createJob's
 * overhead against the `echo` callable, the Functions worker's peak RSS and errors by code, then
 * checks: every job terminal, no `internal`, nothing under transient/ after one purge, job
 * documents with status fields only. `--chaos` injects faults instead (see FAULTS below).
 *
 * Flags: --users N (50), --jobs N (1000), --latency-ms N (2000), --quick (10 users, 60 jobs), --chaos,
 * --call-timeout-s N (120: every client call is bounded; one that runs out is reported by name),
 * --host instances|emulator (where createJob, echo and uploadImage run; load/instances.ts),
 * --think-ms N (a user's pause between jobs), --slow-ms N (print calls slower than N ms).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { deleteApp, initializeApp, type FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously, type Auth } from "firebase/auth";
import { connectFunctionsEmulator, getFunctions, httpsCallable, type Functions } from "firebase/functions";
import { requireFromFunctions, startLocalStack, type LocalStack } from "../local/stack";
import { seedRuntimeConfig } from "../local/seed";
import { FakeServer } from "../functions/test/support/fakeServer";
import { paramsFromDotEnv, startInstanceHost, type InstanceHost } from "./instances";
import { answerAfterLatency, forgetCalls } from "./providerFake";
import { readyLine, TSX } from "../bench/backendsProcess";
import { makeFaceImage } from "../functions/test/fixtures/images";
import { ERROR_CODES } from "../functions/src/contract/errors";
import { TERMINAL_STATUSES } from "../functions/src/domain/jobStatus";

const ROOT = path.resolve(__dirname, "..");
const PROJECT = "demo-photo-fixer";
const CONSENT = { faceDataProcessing: true, policyVersion: "2026-01" };
/** Documented codes a client may see (the contract, ARCHITECTURE §3), `internal` excepted: that one fails the run. */
const DOCUMENTED = new Set<string>(ERROR_CODES.map((e) => e.code).filter((code) => code !== "internal"));
/** Refusals a client is told to retry (admission control, rate limits): allowed, counted, retried. */
const RETRYABLE = new Set(["resource-exhausted", "unavailable"]);
const TERMINAL = new Set<string>(TERMINAL_STATUSES);

// ------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const num = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const QUICK = flag("quick");
const CHAOS = flag("chaos");
const USERS = num("users", QUICK ? 10 : 50);
const JOBS = num("jobs", QUICK ? 60 : 1000);
const LATENCY_MS = num("latency-ms", 2000);
const CALL_TIMEOUT_MS = num("call-timeout-s", 120) * 1000;
/** A user's pause between jobs (0: back to back, a closed loop that drives the machine to saturation). */
const THINK_MS = num("think-ms", 0);
/** Prints every call slower than this (0: none), with its start time: stalls show as clusters. */
const SLOW_MS = num("slow-ms", 0);
/**
 * Where createJob, echo and uploadImage run: `instances` (Functions Framework processes behind a
 * router that honours each function's declared concurrency, load/instances.ts) or `emulator` (the
 * Functions emulator: one worker per request in flight).
 */
const argHost = argv.includes("--host") ? argv[argv.indexOf("--host") + 1] : undefined;
const HOST: "instances" | "emulator" = argHost === "emulator" || argHost === "instances" ? argHost : "instances";
/** The port clients call functions on: the emulator's, or the instance router's. */
let functionsPort = 0;

// ------------------------------------------------------------------ measurements

const samples: Record<string, number[]> = {};
const record = (what: string, ms: number) => (samples[what] ??= []).push(ms);
const errors: Record<string, number> = {};
const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
/** The first message seen per code, printed to tell a harness fault from the stack's. */
const firstMessages: Record<string, string> = {};
const jobIds = new Set<string>();

/**
 * Every client call in flight, so that a hang names itself: calls older than 60 s are listed every
 * 30 s and at the end, and each call is bounded by CALL_TIMEOUT_MS (reported as `harness-timeout`
 * with the call's name, user and age rather than waiting out the SDK's own timeout).
 */
const inFlight = new Map<number, { what: string; uid: string; since: number }>();
let nextCallId = 0;

async function tracked<T>(what: string, uid: string, work: () => Promise<T>): Promise<T> {
  const id = nextCallId++;
  const since = Date.now();
  inFlight.set(id, { what, uid, since });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} by ${uid} did not answer in ${CALL_TIMEOUT_MS / 1000} s`), { code: "harness-timeout" })),
      CALL_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
    inFlight.delete(id);
  }
}

function logUnfinished(olderThanMs: number, heading: string) {
  const now = Date.now();
  const old = [...inFlight.values()].filter((c) => now - c.since >= olderThanMs);
  if (!old.length) return;
  console.log(`  ${heading}: ${old.length} call(s) unfinished`);
  for (const c of old.slice(0, 20)) console.log(`    ${c.what} by ${c.uid}, ${((now - c.since) / 1000).toFixed(0)} s`);
}
const unfinishedReporter = setInterval(() => logUnfinished(60_000, "still waiting"), 30_000);
unfinishedReporter.unref();

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// ------------------------------------------------------------------ the functions worker's RSS

/** Node processes of the Functions emulator's workers: descendants of this process only. */
function workerPids(): number[] {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parent.set(
        Number(entry),
        Number(
          readFileSync(`/proc/${entry}/stat`, "utf8")
            .replace(/^.*\) /, "")
            .split(" ")[1],
        ),
      );
      cmd.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, "utf8"));
    } catch {
      /* gone */
    }
  }
  const mine = (pid: number) => {
    for (let p = parent.get(pid); p && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...cmd].filter(([pid, c]) => c.includes("functionsEmulatorRuntime") && mine(pid)).map(([pid]) => pid);
}

const rssKb = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

const rss = { peakOneKb: 0, peakSumKb: 0, peakWorkers: 0, workersSeen: new Set<number>() };
/** Peak RSS per instance (`createJob#0`, …) when the instance host runs them. */
const instancePeakKb = new Map<string, number>();
let instanceHost: InstanceHost | undefined;
function sampleRss() {
  for (const i of instanceHost?.instances ?? []) {
    const key = `${i.name}#${i.index}`;
    instancePeakKb.set(key, Math.max(instancePeakKb.get(key) ?? 0, i.child.pid ? rssKb(i.child.pid) : 0));
  }
  const pids = instanceHost ? instanceHost.instances.map((i) => i.child.pid!).filter(Boolean) : workerPids();
  let sum = 0;
  for (const pid of pids) {
    const kb = rssKb(pid);
    rss.workersSeen.add(pid);
    rss.peakOneKb = Math.max(rss.peakOneKb, kb);
    sum += kb;
  }
  rss.peakSumKb = Math.max(rss.peakSumKb, sum);
  rss.peakWorkers = Math.max(rss.peakWorkers, pids.length);
}

/**
 * CPU seconds (user + system) per part of the run, from /proc/<pid>/stat: this process (the
 * clients, the Firestore and Storage servers, the router) and each child by its command line.
 * Shows where a 2-core machine's time goes when the latencies saturate.
 */
function cpuByPart(): Record<string, number> {
  const ticks = Number(process.env.CLK_TCK ?? 100);
  const parts: Record<string, number> = {};
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
        .replace(/^.*\) /, "")
        .split(" ");
      const part =
        Number(entry) === process.pid
          ? "harness (clients, Firestore, Storage, router)"
          : (/--target=(\w+)/.exec(cmd)?.[1] ??
            (cmd.includes("providerFake")
              ? "provider fake"
              : cmd.includes("functionsEmulatorRuntime")
                ? "emulator workers"
                : cmd.includes("firebase.js")
                  ? "firebase CLI (Auth, Tasks, emulator)"
                  : undefined));
      if (!part || (Number(entry) !== process.pid && !descendsFromUs(Number(entry)))) continue;
      parts[part] = (parts[part] ?? 0) + (Number(stat[11]) + Number(stat[12])) / ticks;
    } catch {
      /* gone */
    }
  }
  return parts;
}

function descendsFromUs(pid: number): boolean {
  for (let p = pid; p > 1;) {
    try {
      p = Number(
        readFileSync(`/proc/${p}/stat`, "utf8")
          .replace(/^.*\) /, "")
          .split(" ")[1],
      );
    } catch {
      return false;
    }
    if (p === process.pid) return true;
  }
  return false;
}

// ------------------------------------------------------------------ clients

interface User {
  app: FirebaseApp;
  auth: Auth;
  functions: Functions;
  uid: string;
}

async function signIn(stack: LocalStack, i: number): Promise<User> {
  const app = initializeApp({ projectId: PROJECT, apiKey: "fake-api-key" }, `load-${i}-${randomUUID()}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://127.0.0.1:${stack.ports.auth}`, { disableWarnings: true });
  const { user } = await signInAnonymously(auth);
  const functions = getFunctions(app, "us-central1");
  connectFunctionsEmulator(functions, "127.0.0.1", functionsPort || stack.ports.functions);
  return { app, auth, functions, uid: user.uid };
}

type CallError = { code?: string; message?: string; details?: { retryAfterSeconds?: number; correlationId?: string; reason?: string } };

/**
 * The outcome code of a failed call. An `internal` answered by our code always carries
 * `details.correlationId` (callable.ts, a bug) or `details.reason` (an AppError); one with neither
 * is the emulator's own 500 (a worker killed mid-request: functionsRuntimeWorker.js answers the
 * proxy error with a bare 500), counted as `internal (emulator)`. An error without a code is a
 * transport failure (fetch failed, connection reset): `transport`.
 */
function codeOf(e: unknown): string {
  const err = e as CallError;
  const code = String(err.code ?? "transport").replace(/^functions\//, "");
  if (code === "internal" && !err.details?.correlationId && !err.details?.reason) return "internal (emulator)";
  return code;
}

async function call<T>(user: User, name: string, data: unknown): Promise<T> {
  return tracked(name, user.uid, async () => (await httpsCallable<unknown, T>(user.functions, name, { timeout: CALL_TIMEOUT_MS + 5_000 })(data)).data);
}

/**
 * Calls, retrying documented retryable refusals after `retryAfterSeconds` (counted by code). As
 * docs/CLIENT-API.md says: the same `requestId` after `instance-busy` (no job was created), a new
 * one otherwise (the refused job has failed, and its `requestId` would answer with it).
 */
async function callRetrying<T>(user: User, name: string, data: unknown, label: string): Promise<T> {
  let lastReason: string | undefined;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 && lastReason !== "instance-busy" && typeof data === "object" && data && "requestId" in data) data = { ...data, requestId: randomUUID() };
    const t = Date.now();
    try {
      const out = await call<T>(user, name, data);
      record(label, Date.now() - t);
      if (SLOW_MS && Date.now() - t > SLOW_MS) console.log(`  slow: ${label} started at ${((t - runStart) / 1000).toFixed(1)} s, took ${Date.now() - t} ms`);
      return out;
    } catch (e) {
      const code = codeOf(e);
      if (!RETRYABLE.has(code) || attempt >= 4) throw e;
      lastReason = (e as CallError).details?.reason;
      countError(`${code} (retried)`);
      firstMessages[`${code} (retried) ${label}`] ??= `${String((e as Error).message).slice(0, 120)} [reason ${(e as CallError).details?.reason ?? "none"}]`;
      await sleep(Math.min(10, (e as CallError).details?.retryAfterSeconds ?? 1) * 1000);
    }
  }
}

async function upload(stack: LocalStack, user: User, bytes: Buffer, mime: string): Promise<string> {
  const token = await user.auth.currentUser!.getIdToken();
  for (let attempt = 0; ; attempt++) {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(bytes)], { type: mime }), "photo");
    const t = Date.now();
    const res = await tracked("uploadImage", user.uid, () =>
      fetch(`http://127.0.0.1:${functionsPort || stack.ports.functions}/${PROJECT}/us-central1/uploadImage`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: form,
      }),
    );
    const body = (await res.json().catch(() => ({}))) as { uploadId?: string; error?: { status?: string; details?: { retryAfterSeconds?: number } } };
    if (res.ok && body.uploadId) {
      record(`uploadImage ${bytes.length > 1e6 ? `${(bytes.length / 1e6).toFixed(0)} MB` : `${(bytes.length / 1e3).toFixed(0)} kB`}`, Date.now() - t);
      return body.uploadId;
    }
    const code = (body.error?.status ?? `http-${res.status}`).toLowerCase().replace(/_/g, "-");
    if (RETRYABLE.has(code) && attempt < 4) {
      countError(`${code} (retried)`);
      firstMessages[`${code} (retried) uploadImage`] ??= `HTTP ${res.status} [reason ${(body.error as { reason?: string } | undefined)?.reason ?? "none"}]`;
      await sleep(Math.min(10, body.error?.details?.retryAfterSeconds ?? 1) * 1000);
      continue;
    }
    throw Object.assign(new Error(`uploadImage ${res.status}`), { code });
  }
}

const runStart = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the job mix

interface Images {
  small: Buffer;
  medium: Buffer;
  max: Buffer;
}

async function makeImages(): Promise<Images> {
  const sharp = createRequire(path.join(ROOT, "functions/package.json"))("sharp") as typeof import("../functions/node_modules/sharp").default;
  // A maximum-size photo: synthetic noise (never a real photo) sized just under MAX_IMAGE_BYTES.
  const noise = (w: number, h: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: "gaussian", mean: 128, sigma: 40 } } })
      .jpeg({ quality: 90 })
      .toBuffer();
  let width = 6000;
  let max = await noise(width, Math.round(width / 1.5));
  while (max.length > 15_000_000) max = await noise((width = Math.round(width * 0.98)), Math.round(width / 1.5));
  return {
    small: await makeFaceImage({ width: 384, height: 384, format: "jpeg" }),
    medium: await makeFaceImage({ width: 1600, height: 1200, format: "jpeg" }),
    max,
  };
}

type Kind = "image-inline-small" | "image-inline-medium" | "image-upload-medium" | "image-upload-max" | "video";
const FEATURES = [
  { feature: "style", style: "watercolor" },
  { feature: "edit", prompt: "make the light warmer" },
  { feature: "enhance" },
  { feature: "cutout" },
] as const;

function kindOf(i: number): Kind {
  if (i % 40 === 7) return "video";
  if (i % 20 === 3) return "image-upload-max";
  if (i % 10 === 5) return "image-upload-medium";
  return i % 3 === 0 ? "image-inline-medium" : "image-inline-small";
}

/** One job as a client runs it; returns the outcome code ("succeeded" or the error code). */
async function runJob(stack: LocalStack, user: User, images: Images, i: number, kind: Kind = kindOf(i)): Promise<string> {
  const requestId = randomUUID();
  try {
    if (kind === "video") return await runVideo(stack, user, images, requestId);
    const bytes = kind.endsWith("max") ? images.max : kind.endsWith("medium") ? images.medium : images.small;
    const image = kind.startsWith("image-upload")
      ? { uploadId: await upload(stack, user, bytes, "image/jpeg") }
      : { base64: bytes.toString("base64"), mimeType: "image/jpeg" };
    const request = { requestId, ...FEATURES[i % FEATURES.length], image, consent: CONSENT };
    await callRetrying(user, "echo", request, `echo ${kind}`);
    const res = await callRetrying<{ jobId: string; status: string }>(user, "createJob", request, `createJob ${kind}`);
    jobIds.add(res.jobId);
    return res.status;
  } catch (e) {
    const code = codeOf(e);
    countError(code);
    const details = (e as CallError).details;
    firstMessages[`${code} (${kind})`] ??= `${String((e as Error).message ?? e).slice(0, 200)}${details?.reason ? ` [reason ${details.reason}]` : ""}`;
    return code;
  }
}

async function runVideo(stack: LocalStack, user: User, images: Images, requestId: string): Promise<string> {
  const request = { requestId, feature: "video", image: { base64: images.small.toString("base64"), mimeType: "image/jpeg" }, consent: CONSENT };
  const t = Date.now();
  const res = await callRetrying<{ jobId: string; status: string }>(user, "createJob", request, "createJob video (start)");
  jobIds.add(res.jobId);
  let answer: { status: string; result?: { url: string } } = res;
  while (!TERMINAL.has(answer.status) && Date.now() - t < 180_000) {
    await sleep(1000);
    answer = await call(user, "getJobResult", { jobId: res.jobId });
  }
  if (answer.status !== "succeeded") return answer.status;
  await tracked("video download", user.uid, async () => (await fetch(answer.result!.url)).arrayBuffer());
  record("video: createJob to result", Date.now() - t);
  await call(user, "ackJobResult", { jobId: res.jobId });
  void stack;
  return "succeeded";
}

// ------------------------------------------------------------------ the stack

async function startStack(providerUrl: string, extraEnv: Record<string, string>) {
  Object.assign(process.env, {
    OPENAI_BASE_URL: providerUrl,
    OPENAI_API_KEY: `openai-load-test-${process.pid}`,
    LOCAL_EMULATORS: "offline",
    ...extraEnv,
  });
  const stack = await startLocalStack({ projectId: PROJECT, ports: { firestore: 0, storage: 0, auth: 0, functions: 0, tasks: 0, hub: 0, logging: 0 } });
  Object.assign(process.env, stack.env);
  // The admin SDK of this process (the purge and the checks) talks to the same emulators.
  await import("../functions/src/admin.js");
  const { getFirestore } = requireFromFunctions("firebase-admin/firestore") as typeof import("firebase-admin/firestore");
  await seedRuntimeConfig(getFirestore(), {
    enabledProviders: ["local", "openai"],
    defaults: {
      edit: { provider: "openai" },
      style: { provider: "openai" },
      enhance: { provider: "openai" },
      cutout: { provider: "openai" },
      video: { provider: "local" },
    },
    quotas: {
      perFeature: Object.fromEntries(["edit", "style", "cutout", "enhance", "video"].map((f) => [f, { perHour: 100_000, perDay: 100_000 }])),
      maxConcurrentJobs: 20,
    },
  });
  return stack;
}

// ------------------------------------------------------------------ checks after the run

interface Checks {
  notTerminal: string[];
  badFields: string[];
  leftovers: string[];
  purge: Record<string, number>;
  statuses: Record<string, number>;
}

async function purgeAndCheck(now?: number): Promise<Checks> {
  const { purgeTransient } = await import("../functions/src/privacy/purge.js");
  const purge = (await purgeTransient(now === undefined ? {} : { now })) as unknown as Record<string, number>;
  const { getFirestore } = requireFromFunctions("firebase-admin/firestore") as typeof import("firebase-admin/firestore");
  const { getStorage } = requireFromFunctions("firebase-admin/storage") as typeof import("firebase-admin/storage");
  const { JOB_DOC_FIELDS } = await import("../functions/src/jobs/schema.js");
  const jobs = await getFirestore().collection("jobs").get();
  const checks: Checks = { notTerminal: [], badFields: [], leftovers: [], purge, statuses: {} };
  for (const doc of jobs.docs) {
    const status = String(doc.get("status"));
    const error = doc.get("error.code") as string | undefined;
    const key = error ? `${status}: ${error}` : status;
    checks.statuses[key] = (checks.statuses[key] ?? 0) + 1;
    if (!TERMINAL.has(status)) checks.notTerminal.push(`${doc.id} ${status}`);
    if (doc.get("inputDeleted") !== true && TERMINAL.has(status)) checks.leftovers.push(`${doc.id}: inputDeleted not set`);
    for (const field of Object.keys(doc.data())) if (!(JOB_DOC_FIELDS as readonly string[]).includes(field)) checks.badFields.push(`${doc.id}.${field}`);
    if (/https?:\/\/|base64|data:/i.test(JSON.stringify(doc.data()))) checks.badFields.push(`${doc.id}: holds a URL or data`);
  }
  const [files] = await getStorage().bucket().getFiles({ prefix: "transient/" });
  checks.leftovers.push(...files.map((f) => f.name));
  return checks;
}

// ------------------------------------------------------------------ output

/** `judged: false` prints INFO: a figure shown but not judged (a timing in --quick, on a shared CI machine). */
const rows: { name: string; detail: string; ok: boolean; judged: boolean }[] = [];
const row = (name: string, detail: string, ok: boolean, judged = true) => rows.push({ name, detail, ok, judged });

function printLatencies() {
  console.log("\nlatency (ms)                                  n     p50     p95     p99");
  for (const [what, v] of Object.entries(samples).sort()) {
    console.log(`  ${what.padEnd(40)} ${String(v.length).padStart(5)} ${[50, 95, 99].map((p) => String(Math.round(pct(v, p))).padStart(7)).join(" ")}`);
  }
}

function printRows() {
  console.log("");
  for (const r of rows) console.log(`${!r.judged ? "INFO" : r.ok ? "PASS" : "FAIL"}  ${r.name}\n      ${r.detail}`);
}

// ------------------------------------------------------------------ instances

/** A shape's memory ("2GiB", "256MiB") in MiB. */
function mib(memory: string): number {
  const m = /^(\d+)(GiB|MiB)$/.exec(memory);
  if (!m) throw new Error(`unexpected memory setting ${memory}`);
  return Number(m[1]) * (m[2] === "GiB" ? 1024 : 1);
}

/**
 * createJob, echo and uploadImage on warm Functions Framework instances, enough for every user to
 * have a call in flight at the declared concurrency (the params of functions/.env.local). echo gets
 * createJob's concurrency, so the baseline runs on the same shape.
 */
async function startInstances(stack: LocalStack): Promise<InstanceHost> {
  const { SHAPES } = await import("../functions/src/triggers/shapes.js");
  const params = paramsFromDotEnv();
  const jobConcurrency = Number(params.CREATE_JOB_CONCURRENCY);
  const uploadConcurrency = Number(params.UPLOAD_CONCURRENCY);
  const enough = (concurrency: number) => Math.max(1, Math.ceil(USERS / concurrency));
  const t = Date.now();
  const host = await startInstanceHost({
    pools: [
      { name: "createJob", instances: enough(jobConcurrency), concurrency: jobConcurrency, memoryMib: mib(SHAPES.createJob.memory) },
      { name: "echo", instances: enough(jobConcurrency), concurrency: jobConcurrency, memoryMib: mib(SHAPES.createJob.memory) },
      { name: "uploadImage", instances: enough(uploadConcurrency), concurrency: uploadConcurrency, memoryMib: mib(SHAPES.uploadImage.memory) },
      // Video clients poll these; in the emulator each poll in flight would be a worker cold start.
      { name: "getJobResult", instances: 1, concurrency: SHAPES.light.concurrency, memoryMib: mib(SHAPES.light.memory) },
      { name: "ackJobResult", instances: 1, concurrency: SHAPES.light.concurrency, memoryMib: mib(SHAPES.light.memory) },
    ],
    env: process.env,
    emulatorPort: stack.ports.functions,
  });
  console.log(
    `instances: ${host.specs.map((p) => `${p.name} ${p.instances} × concurrency ${p.concurrency}, ${p.memoryMib} MiB`).join("; ")} (started in ${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );
  functionsPort = host.port;
  return host;
}

/**
 * The burst budget (issue #12): one instance receives its declared concurrency of maximum-size
 * calls at once. First uploadImage (that many maximum-size uploads), then createJob: half inline
 * (the whole base64 photo in the body, as the framework holds it twice: raw and parsed), half
 * `{ uploadId }`. The router fills instances in order, so an idle pool sends the whole burst to
 * instance 0, and it holds the calls until all of them are there (InstanceHost.gather): on a slow
 * machine the clients' sends spread out, and a call answered before the last was sent would make
 * the burst smaller than declared. Rows: instance 0 held them all at once, its peak RSS under 90 %
 * of its memory, every call succeeded or got a documented retryable code.
 */
async function burst(stack: LocalStack, host: InstanceHost, users: User[], images: Images) {
  const sampler = setInterval(sampleRss, 20);
  const concurrencyOf = (name: string) => host.specs.find((p) => p.name === name)!.concurrency;
  const outcome = async (work: () => Promise<unknown>) =>
    work().then(
      () => "succeeded",
      (e) => codeOf(e),
    );
  const tally = (codes: string[]) => codes.reduce<Record<string, number>>((acc, c) => ((acc[c] = (acc[c] ?? 0) + 1), acc), {});

  // Upload i belongs to user i: createJob takes only the caller's own uploads.
  const uploads = new Map<number, string>();
  const gathered = { uploadImage: host.gather("uploadImage", concurrencyOf("uploadImage")), createJob: Promise.resolve(0) };
  const uploadCodes = await Promise.all(
    Array.from({ length: concurrencyOf("uploadImage") }, (_, i) =>
      outcome(async () => uploads.set(i, await upload(stack, users[i % users.length]!, images.max, "image/jpeg"))),
    ),
  );
  const jobCount = concurrencyOf("createJob");
  gathered.createJob = host.gather("createJob", jobCount);
  const jobCodes = await Promise.all(
    Array.from({ length: jobCount }, (_, i) => {
      const user = users[i % users.length]!;
      const uploadId = i % 2 === 1 ? uploads.get(i) : undefined;
      if (uploadId) uploads.delete(i);
      const image = uploadId ? { uploadId } : { base64: images.max.toString("base64"), mimeType: "image/jpeg" };
      return outcome(async () =>
        jobIds.add((await call<{ jobId: string }>(user, "createJob", { requestId: randomUUID(), ...FEATURES[i % 3], image, consent: CONSENT })).jobId),
      );
    }),
  );
  // Uploads the burst did not use go through createJob too, so that none waits for the purge.
  await Promise.all(
    [...uploads].map(([i, uploadId]) =>
      callRetrying<{ jobId: string }>(
        users[i % users.length]!,
        "createJob",
        { requestId: randomUUID(), ...FEATURES[0], image: { uploadId }, consent: CONSENT },
        "burst leftovers",
      ).then(
        (r) => jobIds.add(r.jobId),
        () => undefined,
      ),
    ),
  );
  clearInterval(sampler);

  for (const [name, codes] of [
    ["uploadImage", uploadCodes],
    ["createJob", jobCodes],
  ] as const) {
    const spec = host.specs.find((p) => p.name === name)!;
    const first = host.instances.find((i) => i.name === name && i.index === 0)!;
    const peakMib = (instancePeakKb.get(`${name}#0`) ?? 0) / 1024;
    const okCodes = codes.every((c) => c === "succeeded" || RETRYABLE.has(c));
    const together = await gathered[name];
    console.log(
      `burst: ${name}#0 held ${first.peakInFlight} calls at once (${together} forwarded together); outcomes ${JSON.stringify(tally(codes))}; peak RSS ${peakMib.toFixed(0)} MiB of ${spec.memoryMib}`,
    );
    row(
      `burst: one ${name} instance (${spec.memoryMib} MiB) receives ${spec.concurrency} maximum-size calls at once${name === "createJob" ? " (inline and upload mixed)" : ""}: peak RSS < 90 % of its memory, every call succeeds or gets a documented retryable code`,
      `${first.peakInFlight} at once on instance 0 (${together} forwarded together); peak RSS ${peakMib.toFixed(0)} MiB = ${((100 * peakMib) / spec.memoryMib).toFixed(0)} % of ${spec.memoryMib} MiB; outcomes ${JSON.stringify(tally(codes))}`,
      together === spec.concurrency && first.peakInFlight === spec.concurrency && peakMib < 0.9 * spec.memoryMib && okCodes,
    );
  }
}

// ------------------------------------------------------------------ load

async function load(stack: LocalStack, images: Images) {
  if (HOST === "instances") instanceHost = await startInstances(stack);
  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => signIn(stack, i)));
  if (instanceHost) await burst(stack, instanceHost, users, images);
  // Warm-up, not measured: a job per user at once, inline and upload, so that every instance (or
  // emulator worker) has loaded its modules and opened its connections: the measured run is the
  // steady state. The first wave on a cold pool stalls every call for seconds on 2 cores.
  await Promise.all(users.map((user, i) => runJob(stack, user, images, i, i % 2 ? "image-upload-medium" : "image-inline-small")));
  for (const k of Object.keys(samples)) delete samples[k];
  for (const k of Object.keys(errors)) delete errors[k];
  instancePeakKb.clear();

  let next = 0;
  const outcomes: Record<string, number> = {};
  const cpuBefore = cpuByPart();
  const t0 = Date.now();
  const sampler = setInterval(sampleRss, 250);
  await Promise.all(
    users.map(async (user) => {
      for (let i = next++; i < JOBS; i = next++) {
        const out = await runJob(stack, user, images, i);
        outcomes[out] = (outcomes[out] ?? 0) + 1;
        if (THINK_MS) await sleep(THINK_MS * (0.5 + Math.random()));
        if ((i + 1) % 50 === 0) console.log(`  ${i + 1}/${JOBS} jobs, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }),
  );
  clearInterval(sampler);
  logUnfinished(0, "after the run");
  const seconds = (Date.now() - t0) / 1000;
  const cpuAfter = cpuByPart();
  const cpuUsed = Object.entries(cpuAfter)
    .map(([part, sec]) => [part, sec - (cpuBefore[part] ?? 0)] as const)
    .sort((a, b) => b[1] - a[1]);

  const imageKinds = Object.keys(samples).filter((k) => k.startsWith("createJob image"));
  const overhead = imageKinds.flatMap((k) => samples[k]!.map((ms) => ms - LATENCY_MS));
  const echo = Object.keys(samples)
    .filter((k) => k.startsWith("echo image"))
    .flatMap((k) => samples[k]!);
  const overheadP95 = pct(overhead, 95);
  // Inline photos only: there echo carries the very bytes createJob gets (for an upload it gets only
  // the uploadId, and createJob also fetches the photo from Storage).
  const inlineOverhead = imageKinds.filter((k) => k.includes("inline")).flatMap((k) => samples[k]!.map((ms) => ms - LATENCY_MS));
  const inlineEcho = Object.keys(samples)
    .filter((k) => k.startsWith("echo image-inline"))
    .flatMap((k) => samples[k]!);
  const echoP95 = pct(echo, 95);
  // One purge run as if every deadline had passed: an upload whose client gave up (a harness
  // timeout) is rightly kept until its own deadline, and the promise is that nothing outlives it.
  const { maxTransientTtlMs } = await import("../functions/src/config/params.js");
  const checks = await purgeAndCheck(Date.now() + maxTransientTtlMs() + 60_000);
  for (const u of users) await deleteApp(u.app);

  printLatencies();
  console.log(`\n${USERS} users, ${JOBS} jobs in ${seconds.toFixed(0)} s: ${(JOBS / seconds).toFixed(2)} jobs/s; outcomes ${JSON.stringify(outcomes)}`);
  console.log(
    `createJob (images) minus provider latency ${LATENCY_MS} ms: p50 ${Math.round(pct(overhead, 50))}, p95 ${Math.round(overheadP95)}, p99 ${Math.round(pct(overhead, 99))}; echo p50 ${Math.round(pct(echo, 50))}, p95 ${Math.round(echoP95)}, p99 ${Math.round(pct(echo, 99))}`,
  );
  console.log(
    `inline photos only: createJob minus provider latency p95 ${Math.round(pct(inlineOverhead, 95))}, echo p95 ${Math.round(pct(inlineEcho, 95))}: ${(pct(inlineOverhead, 95) / pct(inlineEcho, 95)).toFixed(2)}x`,
  );
  if (instanceHost) {
    console.log(
      `instances: ${instanceHost.instances.map((i) => `${i.name}#${i.index} ${i.served} served, ${i.peakInFlight} at most at once, peak RSS ${((instancePeakKb.get(`${i.name}#${i.index}`) ?? 0) / 1024).toFixed(0)} MiB`).join("; ")}; most queued at the router: ${JSON.stringify(instanceHost.peakQueued)}`,
    );
    const over = instanceHost.instances.filter(
      (i) => (instancePeakKb.get(`${i.name}#${i.index}`) ?? 0) / 1024 >= 0.9 * instanceHost!.specs.find((p) => p.name === i.name)!.memoryMib,
    );
    row(
      "under load, every instance's peak RSS < 90 % of its declared memory",
      over.length ? `over: ${over.map((i) => `${i.name}#${i.index}`).join(", ")}` : `highest ${(Math.max(...instancePeakKb.values()) / 1024).toFixed(0)} MiB`,
      over.length === 0,
    );
  } else
    console.log(
      `functions worker peak RSS: ${(rss.peakOneKb / 1024).toFixed(0)} MB (one worker), ${(rss.peakSumKb / 1024).toFixed(0)} MB (all workers at once; at most ${rss.peakWorkers} at once, ${rss.workersSeen.size} seen)`,
    );
  console.log(
    `CPU seconds during the run (${seconds.toFixed(0)} s wall, ${(cpuUsed.reduce((n, [, sec]) => n + sec, 0) / seconds).toFixed(2)} cores busy on average): ${cpuUsed.map(([part, sec]) => `${part} ${sec.toFixed(1)}`).join("; ")}`,
  );
  console.log(`errors by code: ${JSON.stringify(errors)}; first message of each: ${JSON.stringify(firstMessages)}`);
  console.log(`job documents: ${JSON.stringify(checks.statuses)}; purge: ${JSON.stringify(checks.purge)}`);

  row(
    `under ${USERS} concurrent users, p95 of createJob minus provider latency ≤ 1.5x echo's p95`,
    `${Math.round(overheadP95)} ms vs echo ${Math.round(echoP95)} ms: ${(overheadP95 / echoP95).toFixed(2)}x${QUICK ? " (not judged in --quick: a timing on a shared machine; the full run judges it)" : ""}`,
    overheadP95 <= 1.5 * echoP95,
    !QUICK,
  );
  row(
    "0 jobs lost: every job document terminal",
    `${checks.notTerminal.length} not terminal of ${jobIds.size} started${checks.notTerminal.length ? `: ${checks.notTerminal.slice(0, 5).join(", ")}` : ""}`,
    checks.notTerminal.length === 0,
  );
  // No fault is injected here: an `internal` of the emulator's own (a worker that died), a transport
  // failure or a call that hung fails the run as much as one of ours.
  const undocumented = Object.keys(errors).filter((c) => !DOCUMENTED.has(c.replace(/ \(retried\)$/, "")));
  row(
    "no `internal` error, only documented codes",
    `${errors.internal ?? 0} internal (ours, with a correlationId), ${errors["internal (emulator)"] ?? 0} internal (emulator, no correlationId); undocumented: ${undocumented.join(", ") || "none"}`,
    undocumented.length === 0,
  );
  row(
    "0 leftovers under transient/ after the run and one purge past every deadline",
    `${checks.leftovers.length}${checks.leftovers.length ? `: ${checks.leftovers.slice(0, 5).join(", ")}` : ""}`,
    checks.leftovers.length === 0,
  );
  row(
    "job documents hold status fields only",
    `${checks.badFields.length} bad${checks.badFields.length ? `: ${checks.badFields.slice(0, 5).join(", ")}` : ""}`,
    checks.badFields.length === 0,
  );
}

// ------------------------------------------------------------------ chaos

interface FaultOutcome {
  fault: string;
  clientCodes: Record<string, number>;
  note: string;
}

/** Starts `n` jobs of `kind` from `users`, injects `fault` after `afterMs`, waits for every client. */
async function underFault(
  stack: LocalStack,
  users: User[],
  images: Images,
  name: string,
  kind: Kind,
  n: number,
  afterMs: number,
  fault: () => Promise<string>,
): Promise<FaultOutcome> {
  const codes: Record<string, number> = {};
  const errorsBefore = { ...errors };
  const jobs = Array.from({ length: n }, (_, i) => runJob(stack, users[i % users.length]!, images, i, kind).then((c) => (codes[c] = (codes[c] ?? 0) + 1)));
  await sleep(afterMs);
  const note = await fault();
  await Promise.all(jobs);
  // Refusals the clients retried (the final outcome is in `codes`): what they saw on the way.
  for (const [code, count] of Object.entries(errors))
    if (code.endsWith("(retried)") && count > (errorsBefore[code] ?? 0)) codes[code] = count - (errorsBefore[code] ?? 0);
  console.log(`  ${name}: clients saw ${JSON.stringify(codes)}; ${note}`);
  return { fault: name, clientCodes: codes, note };
}

/** Seconds since a process started (/proc/<pid>/stat field 22, in clock ticks since boot). */
function ageSeconds(pid: number): number {
  try {
    const startTicks = Number(
      readFileSync(`/proc/${pid}/stat`, "utf8")
        .replace(/^.*\) /, "")
        .split(" ")[19],
    );
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    return uptime - startTicks / 100;
  } catch {
    return 0;
  }
}

/**
 * SIGKILL to every worker that has finished booting (an instance dying mid-request). Workers still
 * booting are spared: killing one leaves the request that waits for it unanswered by the emulator
 * (it logs "Failed to load function" after 30 s and never answers the client), an emulator
 * artefact with no counterpart on Cloud Functions.
 */
async function killWorkers(): Promise<string> {
  const pids = workerPids();
  const booted = pids.filter((pid) => ageSeconds(pid) >= 15);
  for (const pid of booted) process.kill(pid, "SIGKILL");
  return `SIGKILL to ${booted.length} emulator worker(s), ${pids.length - booted.length} still booting spared`;
}

/**
 * On instances: SIGKILL to every createJob instance (an instance dying mid-request: the router
 * answers its requests 503, as Cloud Run does, and starts a replacement), and to the emulator's
 * workers (pollJob runs there, so a video job also loses its poller).
 */
async function killInstancesAndWorkers(): Promise<string> {
  const victims = instanceHost!.instances.filter((i) => i.name === "createJob" && i.child.exitCode === null && i.child.signalCode === null);
  const inFlight = victims.reduce((n, i) => n + i.inFlight, 0);
  for (const i of victims) i.child.kill("SIGKILL");
  return `SIGKILL to ${victims.length} createJob instance(s) holding ${inFlight} call(s); ${await killWorkers()}`;
}

async function chaos(stack: LocalStack, images: Images, fake: FakeServer) {
  if (HOST === "instances") instanceHost = await startInstances(stack);
  const kill = instanceHost ? killInstancesAndWorkers : killWorkers;
  const users = await Promise.all(Array.from({ length: Math.min(USERS, 10) }, (_, i) => signIn(stack, i)));
  const n = QUICK ? 6 : Math.max(6, Math.round(JOBS / 20));
  // Warm-up: n jobs at once (and a few videos), so that each fault batch finds booted workers to kill.
  await Promise.all([
    ...Array.from({ length: n }, (_, i) => runJob(stack, users[i % users.length]!, images, i, "image-inline-small")),
    ...Array.from({ length: Math.max(2, n / 3) }, (_, i) => runJob(stack, users[(n + i) % users.length]!, images, i, "video")),
  ]);
  await sleep(15_000);
  const outcomes: FaultOutcome[] = [];
  const firestore = stack.firestore!;
  const storage = stack.storage!;

  outcomes.push(
    await underFault(stack, users, images, `${instanceHost ? "instance" : "worker"} SIGKILL during image jobs`, "image-inline-small", n, LATENCY_MS / 2, kill),
  );
  const restarted = await runJob(stack, users[0]!, images, 2, "image-inline-small");
  outcomes.at(-1)!.note += `; next request after the kill: ${restarted}`;
  outcomes.push(
    await underFault(stack, users, images, `${instanceHost ? "instance" : "worker"} SIGKILL during video jobs`, "video", Math.max(2, n / 3), 1500, kill),
  );
  outcomes.push(
    await underFault(stack, users, images, "Storage stopped while video results are stored", "video", Math.max(2, n / 3), 1500, async () => {
      await storage.setStopped(true);
      await sleep(5000);
      await storage.setStopped(false);
      return "Storage down 5 s";
    }),
  );
  outcomes.push(
    await underFault(stack, users, images, "Firestore unavailable for 5 s during image jobs", "image-inline-small", n, LATENCY_MS / 2, async () => {
      firestore.setUnavailable(true);
      await sleep(5000);
      firestore.setUnavailable(false);
      return "Firestore UNAVAILABLE 5 s";
    }),
  );
  fake.on("POST", "/images/edits", { hang: true });
  outcomes.push(
    await underFault(stack, users, images, "provider hangs (never answers)", "image-inline-small", Math.max(2, n / 2), 0, async () => "fake never answers"),
  );
  await answerAfterLatency(fake, LATENCY_MS);

  // Recovery: the stack answers again; then one purge, run as if after every deadline had passed.
  const recovered = await runJob(stack, users[0]!, images, 3, "image-inline-small");
  // Past every job deadline and every object's TTL (a result nobody fetched lives RESULT_TTL_MINUTES).
  const { maxTransientTtlMs } = await import("../functions/src/config/params.js");
  const checks = await purgeAndCheck(Date.now() + maxTransientTtlMs() + 60_000);
  for (const u of users) await deleteApp(u.app);

  console.log("\nfault                                              | clients saw                       | note");
  for (const o of outcomes) console.log(`${o.fault.padEnd(50)} | ${JSON.stringify(o.clientCodes).padEnd(33)} | ${o.note}`);
  console.log(
    `\nafter recovery (a new job: ${recovered}) and one purge: job documents ${JSON.stringify(checks.statuses)}; purge ${JSON.stringify(checks.purge)}`,
  );
  // A SIGKILLed worker's request is answered by the emulator itself with a bare 500 (`internal
  // (emulator)`, no correlationId: functionsRuntimeWorker.js); on Cloud Functions a crashed instance
  // is likewise answered by the platform, not our code. Allowed for the kill faults only, and shown.
  // On instances, a killed instance's requests are answered 503 by the router (`unavailable`): no
  // `internal` of any kind is allowed there.
  const allowed = (o: FaultOutcome, c: string) =>
    DOCUMENTED.has(c.replace(/ \(retried\)$/, "")) || (c === "internal (emulator)" && o.fault.includes("SIGKILL") && !instanceHost);
  const seen = outcomes.flatMap((o) =>
    Object.keys(o.clientCodes)
      .filter((c) => !TERMINAL.has(c) && c !== "running")
      .map((c) => ({ o, c })),
  );
  row("recovery: a new job succeeds after the faults", recovered, recovered === "succeeded");
  row(
    "every job terminal after recovery and one purge",
    `${checks.notTerminal.length} not terminal${checks.notTerminal.length ? `: ${checks.notTerminal.slice(0, 5).join(", ")}` : ""}`,
    checks.notTerminal.length === 0,
  );
  row(
    "clients saw only documented codes (never our internal; the emulator's own 500 only when a worker was killed)",
    `seen: ${[...new Set(seen.map((x) => x.c))].join(", ") || "none"}`,
    seen.every(({ o, c }) => allowed(o, c)),
  );
  row(
    "inputs deleted and nothing under transient/",
    `${checks.leftovers.length}${checks.leftovers.length ? `: ${checks.leftovers.slice(0, 5).join(", ")}` : ""}`,
    checks.leftovers.length === 0,
  );
  row("job documents hold status fields only", `${checks.badFields.length} bad`, checks.badFields.length === 0);
}

// ------------------------------------------------------------------ main

/**
 * The OpenAI fake (load/providerFake.ts): in a process of its own for a load run (its work is the
 * provider's, not ours), in this process for chaos (which makes it hang on cue).
 */
async function startProvider(): Promise<{ url: string; fake?: FakeServer; close(): Promise<void> }> {
  if (CHAOS) {
    const fake = await FakeServer.start();
    forgetCalls(fake);
    await answerAfterLatency(fake, LATENCY_MS);
    return { url: fake.url, fake, close: () => fake.close() };
  }
  const child = spawn(process.execPath, [...TSX, path.join(ROOT, "load", "providerFake.ts"), String(LATENCY_MS)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [url] = await readyLine(child);
  return { url: url!, close: async () => void child.kill("SIGKILL") };
}

async function main() {
  console.log(`${CHAOS ? "chaos" : "load"}: ${USERS} users, ${JOBS} jobs, provider latency ${LATENCY_MS} ms, functions on ${HOST}${QUICK ? " (quick)" : ""}`);
  const images = await makeImages();
  console.log(`synthetic images: ${images.small.length} B, ${(images.medium.length / 1e6).toFixed(1)} MB, ${(images.max.length / 1e6).toFixed(1)} MB (max)`);
  const provider = await startProvider();
  // Chaos: a hanging provider call ends at this deadline rather than the job's 10 minutes.
  const stack = await startStack(provider.url, CHAOS ? { OPENAI_POLL_DEADLINE_MS: "15000" } : {});
  try {
    await (provider.fake ? chaos(stack, images, provider.fake) : load(stack, images));
  } finally {
    await instanceHost?.stop();
    await stack.stop();
    await provider.close();
  }
  printRows();
  process.exit(rows.every((r) => r.ok || !r.judged) ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
