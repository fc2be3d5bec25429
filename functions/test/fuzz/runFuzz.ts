/**
 * Runs generated cases through the real callables in-process (`callAs`, the way the Functions
 * runtime calls a handler after verifying the tokens) against the offline Firestore and Storage
 * servers, and checks the oracle after every case and at the end:
 *
 * - every answer is a success of the documented shape or an HttpsError with a documented code;
 *   `internal`, any other code or anything that is not an HttpsError is a failure (a bug);
 * - no call hangs and nothing escapes as an unhandled rejection (the process never crashes);
 * - no message, and no log line, holds the prompt, any 48-character window of the image base64,
 *   or another long client string, and messages stay short and free of control/bidi characters;
 * - another user's job is never served, cancelled or acknowledged;
 * - afterwards no job of the fuzz users is queued or running and nothing of theirs is under
 *   transient/ (video results are acknowledged first, as a client does).
 *
 * Backends must already be running (test: `useBackends()`, CLI: `startBackends()`). The video
 * provider is replaced by a fast scripted one and polls are delivered in-process, so nothing
 * leaves the machine and no ffmpeg runs; image jobs use the real `local` provider (sharp).
 */
import { HttpsError } from "firebase-functions/v2/https";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { callAs } from "../support/callables.js";
import { capturedLogs, clearCapturedLogs } from "../support/logCapture.js";
import {
  buildCorpus,
  decodeWire,
  FUZZ_UIDS,
  generateCase,
  jobIdOfCase,
  WireDecodeError,
  type CallableName,
  type FuzzCase,
  type ImageCorpus,
} from "./generators.js";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import { ProviderFailure, type VideoProvider } from "../../src/providers/types.js";
import { uploadMetadata } from "../../src/uploads/uploadRecord.js";
import { ERROR_CODES } from "../../src/contract/errors.js";

/** The contract's codes (ARCHITECTURE §3) but `internal`, which the fuzzer counts as a bug. */
export const DOCUMENTED_CODES: readonly string[] = ERROR_CODES.map((e) => e.code).filter((code) => code !== "internal");

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** First case index (default 0); with `cases`, runs indices [from, from + cases). */
  from?: number;
  /** Run only these indices (a repro); state from earlier cases is then absent. */
  only?: number[];
  /** Per-call timeout (default 60 s). */
  timeoutMs?: number;
  /** Progress and failure lines (default: none). */
  log?: (line: string) => void;
  corpus?: ImageCorpus;
}

export interface FuzzFailure {
  seed: number;
  index: number;
  fn: CallableName | "end-of-run";
  tags: string[];
  problem: string;
  repro: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  passed: number;
  failed: number;
  failures: FuzzFailure[];
  /** Outcome per answer: "ok", an HttpsError code, "protocol-refused" (the callable protocol's own 400), ... */
  outcomes: Record<string, number>;
  /** Image jobs that got as far as a real decode and succeeded. */
  decodedJobs: number;
  durationMs: number;
  slowest: { index: number; ms: number; tags: string }[];
}

const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(4000, 7)]);

/** A fast, deterministic stand-in for the local video provider (ffmpeg would take seconds per job). */
function scriptedVideoProvider(): VideoProvider {
  let started = 0;
  return {
    id: "local",
    models: { default: "local-kenburns-1", allowed: ["local-kenburns-1"] },
    async start() {
      const n = started++;
      if (n % 7 === 3) throw new ProviderFailure({ kind: "policy_rejected", message: "The provider refused this photo." });
      return { id: `fuzz-task-${n}`, model: "local-kenburns-1" };
    },
    async status(op) {
      const n = Number(op.id.split("-").pop());
      if (n % 5 === 1) return { state: "failed", error: { kind: "permanent", message: "The provider could not animate this photo." }, raw: "FAILED" };
      return { state: "succeeded", result: { bytes: MP4 }, raw: "SUCCEEDED" };
    },
    async openResult() {
      return { body: new Blob([MP4]).stream(), contentType: "video/mp4", contentLength: MP4.length };
    },
    async cancel() {},
    async deleteTask() {},
    classify: (e) => (e instanceof ProviderFailure ? e.error : { kind: "permanent", message: "failed" }),
  };
}

type Answer = { ok: true; value: unknown } | { ok: false; error: unknown };

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)))]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- echo checks

const BASE64_RUN = /[A-Za-z0-9+/=]{48,}/g;
const FORBIDDEN_IN_MESSAGES =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_MESSAGE = 300;
const FUZZ_TOKEN = /fz[0-9a-z]{6}/;
const FUZZ_TOKENS = /fz[0-9a-z]{6}/g;

/** Long strings in the payload (values and keys), bounded so a huge or deep payload stays cheap. */
function clientStrings(wire: unknown, out: string[] = [], depth = 0): string[] {
  if (out.length > 200 || depth > 20) return out;
  if (typeof wire === "string") {
    if (wire.length >= 24 || FUZZ_TOKEN.test(wire)) out.push(wire.length > 65_536 ? wire.slice(0, 4_096) : wire);
  } else if (Array.isArray(wire)) {
    for (const v of wire.slice(0, 50)) clientStrings(v, out, depth + 1);
  } else if (wire && typeof wire === "object") {
    for (const [k, v] of Object.entries(wire).slice(0, 50)) {
      // Keys of any length: a key the client invented must never be named back (promise 19).
      if (k.length >= 24 || FUZZ_TOKEN.test(k)) out.push(k.length > 65_536 ? k.slice(0, 4_096) : k);
      clientStrings(v, out, depth + 1);
    }
  }
  return out;
}

/** Why `text` leaks client input, or undefined. */
function leak(text: string, c: FuzzCase, strings: string[], where: string): string | undefined {
  const prompt = c.secrets.prompt?.trim();
  if (prompt && prompt.length >= 12) {
    if (text.includes(prompt)) return `${where} holds the prompt`;
    for (let i = 0; i + 24 <= Math.min(prompt.length, 4_096); i += 24) {
      const w = prompt.slice(i, i + 24);
      if (/fz[0-9a-z]{6}/.test(w) && text.includes(w)) return `${where} holds part of the prompt`;
    }
  }
  const b64 = c.secrets.base64;
  if (b64 && b64.length >= 48) {
    for (const run of text.match(BASE64_RUN) ?? []) {
      for (let i = 0; i + 48 <= run.length; i++) if (b64.includes(run.slice(i, i + 48))) return `${where} holds a 48-char window of the image base64`;
    }
  }
  // A generated token (fz + 6) the payload holds, in any string or key, however short.
  for (const token of text.match(FUZZ_TOKENS) ?? []) {
    if (strings.some((s) => s.includes(token))) return `${where} echoes client text ${JSON.stringify(token)}`;
  }
  for (const s of strings) {
    for (let i = 0; i + 24 <= text.length; i++) {
      const w = text.slice(i, i + 24);
      if (/fz[0-9a-z]{6}|[^\x20-\x7e]|x{24}/.test(w) && s.includes(w)) return `${where} echoes client text ${JSON.stringify(w)}`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- success shapes

const HEX40 = /^[a-f0-9]{40}$/;
const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "expired"];

function badSuccessShape(fn: CallableName, value: unknown): string | undefined {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== "object") return "success answer is not an object";
  if (typeof v.jobId !== "string" || !HEX40.test(v.jobId)) return "success answer has no jobId";
  if (fn === "ackJobResult") return v.deleted === true ? undefined : "ackJobResult answer lacks deleted: true";
  if (!STATUSES.includes(v.status as string)) return `success answer has status ${String(v.status)}`;
  if (fn === "createJob" && v.result !== undefined) {
    const r = v.result as Record<string, unknown>;
    if (
      !["image/jpeg", "image/png", "image/webp"].includes(r.mimeType as string) ||
      typeof r.base64 !== "string" ||
      !(Number(r.width) > 0) ||
      !(Number(r.height) > 0)
    ) {
      return "createJob result has a bad shape";
    }
    if (v.status !== "succeeded") return "createJob returned a result for an unfinished job";
  }
  if (fn === "getJobResult" && v.result !== undefined && typeof (v.result as Record<string, unknown>).url !== "string") return "getJobResult result has no url";
  return undefined;
}

// ---------------------------------------------------------------- the run

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { seed, cases, from = 0, timeoutMs = 60_000, log = () => {} } = options;
  const corpus = options.corpus ?? (await buildCorpus());
  const fns = await import("../../src/index.js");
  const callables: Record<CallableName, Parameters<typeof callAs>[0]> = {
    createJob: fns.createJob,
    getJobResult: fns.getJobResult,
    ackJobResult: fns.ackJobResult,
    cancelJob: fns.cancelJob,
  };
  const { setPollEnqueuer } = await import("../support/dependencies.js");
  const { overrideProvider } = await import("../support/dependencies.js");
  const { pollVideoJob } = await import("../../src/jobs/videoJob.js");
  const polls: PollTask[] = [];
  setPollEnqueuer(async (task) => void polls.push(task));
  overrideProvider("video:local", scriptedVideoProvider());

  const report: FuzzReport = { seed, cases: 0, passed: 0, failed: 0, failures: [], outcomes: {}, decodedJobs: 0, durationMs: 0, slowest: [] };
  const count = (key: string) => (report.outcomes[key] = (report.outcomes[key] ?? 0) + 1);
  const repro = (index: number) => `npm run fuzz -- --seed ${seed} --cases ${index + 1}   (alone: --seed ${seed} --only ${index})`;
  const fail = (c: Pick<FuzzCase, "index" | "fn" | "tags">, problem: string) => {
    const f: FuzzFailure = { seed, index: c.index, fn: c.fn, tags: c.tags, problem, repro: repro(c.index) };
    report.failures.push(f);
    log(`FAIL seed=${seed} case=${c.index} ${c.tags.join(" ")}: ${problem}\n  repro: ${f.repro}`);
  };

  // An unhandled rejection during a case is a crash in production: pin it on the running case.
  let current: FuzzCase | undefined;
  const crashes: string[] = [];
  const onCrash = (error: unknown) => crashes.push(`${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)}`);
  process.on("unhandledRejection", onCrash);
  process.on("uncaughtException", onCrash);

  const started = Date.now();
  const indices = options.only ?? Array.from({ length: cases }, (_, i) => from + i);
  try {
    for (const index of indices) {
      const c = generateCase(seed, index, corpus);
      current = c;
      const failuresBefore = report.failures.length;
      const t0 = Date.now();
      await deliverPolls(polls, pollVideoJob, (e) => fail(c, `pollJob threw ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 200)}`));
      clearCapturedLogs();
      await runCase(
        c,
        callables[c.fn],
        timeoutMs,
        count,
        (p) => fail(c, p),
        () => report.decodedJobs++,
      );
      for (const crash of crashes.splice(0)) fail(c, `unhandled error (a crash in production): ${crash}`);
      const ms = Date.now() - t0;
      report.slowest.push({ index, ms, tags: c.tags.join(" ") });
      report.slowest = report.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5);
      report.cases++;
      if (report.failures.length === failuresBefore) report.passed++;
      else report.failed++;
      if (report.cases % 500 === 0)
        log(`fuzz: ${report.cases}/${indices.length} cases, ${report.failed} failed, ${Math.round((Date.now() - started) / 1000)} s`);
    }
    current = undefined;
    await endOfRun(seed, indices, polls, pollVideoJob, callables, (problem, index = -1) => {
      const f: FuzzFailure = {
        seed,
        index,
        fn: "end-of-run",
        tags: [],
        problem,
        repro: index >= 0 ? repro(index) : `npm run fuzz -- --seed ${seed} --cases ${cases}`,
      };
      report.failures.push(f);
      report.failed++;
      log(`FAIL seed=${seed} end-of-run${index >= 0 ? ` (job of case ${index})` : ""}: ${problem}\n  repro: ${f.repro}`);
    });
  } finally {
    process.off("unhandledRejection", onCrash);
    process.off("uncaughtException", onCrash);
    setPollEnqueuer(undefined);
    overrideProvider("video:local", undefined);
    void current;
  }
  report.durationMs = Date.now() - started;
  return report;
}

async function deliverPolls(polls: PollTask[], pollVideoJob: (t: PollTask) => Promise<void>, onError: (e: unknown) => void) {
  while (polls.length) {
    const task = polls.shift()!;
    await pollVideoJob(task).catch(onError);
  }
}

async function runCase(
  c: FuzzCase,
  fn: Parameters<typeof callAs>[0],
  timeoutMs: number,
  count: (key: string) => void,
  fail: (problem: string) => void,
  decoded: () => void,
) {
  let data: unknown;
  try {
    // The JSON round trip is the wire (a raw HTTP client can send JSON nested deeper than
    // JSON.stringify writes: then the wire form is used as it is); decodeWire is the protocol's decode.
    let body: unknown;
    try {
      body = JSON.parse(JSON.stringify(c.wire));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      body = c.wire;
    }
    data = decodeWire(body);
  } catch (error) {
    if (error instanceof WireDecodeError) {
      count("protocol-refused"); // firebase-functions refuses the body before the handler runs
      return;
    }
    if (error instanceof RangeError) {
      count("protocol-too-deep"); // firebase-functions' recursive decode overflows: no handler runs
      return;
    }
    throw error;
  }
  if (c.upload) await plantUpload(c.upload);

  const calls = Array.from({ length: c.parallel }, () =>
    withTimeout(
      callAs(fn, c.uid, data, { appCheck: c.appCheck }).then(
        (value): Answer => ({ ok: true, value }),
        (error): Answer => ({ ok: false, error }),
      ),
      timeoutMs,
    ),
  );
  const answers = await Promise.all(calls);
  // Taken before this harness prints anything (its own FAIL lines go through the same stdout).
  const logs = capturedLogs();
  const strings = clientStrings(c.wire);
  for (const answer of answers) {
    if (answer === "timeout") {
      count("timeout");
      fail(`no answer within ${timeoutMs} ms (a hung call)`);
      continue;
    }
    if (answer.ok) {
      count("ok");
      const shape = badSuccessShape(c.fn, answer.value);
      if (shape) fail(shape);
      if (!c.uid || !c.appCheck) fail("succeeded without Auth or App Check");
      if (c.refOwner && c.uid && c.refOwner !== c.uid) fail(`${c.fn} served another user's job`);
      const v = answer.value as { status?: string; result?: unknown };
      if (c.fn === "createJob" && v.status === "succeeded" && v.result) decoded();
      continue;
    }
    const error = answer.error;
    if (!(error instanceof HttpsError)) {
      count("not-an-HttpsError");
      fail(`threw a non-HttpsError ${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)}`);
      continue;
    }
    count(error.code);
    if (error.code === "internal") {
      fail(`internal error (a bug): ${error.message} ${internalLogLine(logs, (error.details as { correlationId?: string } | undefined)?.correlationId)}`);
    } else if (!DOCUMENTED_CODES.includes(error.code)) {
      fail(`undocumented code ${error.code}: ${error.message.slice(0, 200)}`);
    }
    if (error.message.length > MAX_MESSAGE) fail(`message is ${error.message.length} characters long: ${JSON.stringify(error.message.slice(0, 120))}...`);
    if (FORBIDDEN_IN_MESSAGES.test(error.message))
      fail(`message holds control, bidi or unpaired surrogate characters: ${JSON.stringify(error.message.slice(0, 160))}`);
    const leaked = leak(error.message, c, strings, "message");
    if (leaked) fail(`${leaked}: ${JSON.stringify(error.message.slice(0, 160))}`);
    if (c.refOwner && c.uid && c.refOwner !== c.uid && error.code !== "permission-denied" && error.code !== "not-found" && error.code !== "invalid-argument") {
      fail(`another user's job answered ${error.code}, not permission-denied`);
    }
  }

  const logLeak = leak(logs, c, strings, "a log line");
  if (logLeak) fail(logLeak);

  if (c.fn === "createJob" && c.uid) await checkCreatedJob(c, fail, strings);
  if (c.upload) await checkUpload(c, fail);
}

/** The error's name and code from the backend's own log line for this correlation id. */
function internalLogLine(logs: string, correlationId: string | undefined): string {
  const line = correlationId ? logs.split("\n").find((l) => l.includes(correlationId) && l.includes('"errorName"')) : undefined;
  if (!line) return "";
  try {
    const { errorName, errorCode } = JSON.parse(line) as { errorName?: string; errorCode?: string };
    return `(log: errorName=${errorName} errorCode=${errorCode})`;
  } catch {
    return "";
  }
}

/** An image job must end in the call that made it; a video job may run on (its polls finish it). */
async function checkCreatedJob(c: FuzzCase, fail: (problem: string) => void, strings: string[]) {
  const requestId = (c.wire as { requestId?: unknown } | null)?.requestId;
  if (typeof requestId !== "string") return;
  const { jobIdFor } = await import("../../src/jobs/jobId.js");
  const snap = await getFirestore()
    .doc(`jobs/${jobIdFor(c.uid!, requestId)}`)
    .get();
  if (!snap.exists) return;
  const status = snap.get("status");
  if (snap.get("feature") !== "video" && (status === "queued" || status === "running")) fail(`image job left ${status} after createJob answered`);
  if (["failed", "cancelled", "succeeded"].includes(status) && snap.get("inputDeleted") !== true) fail(`job ${status} with inputDeleted false`);
  // Its stored error (and everything else in it) holds nothing the client typed (promise 19).
  const stored = leak(JSON.stringify(snap.data()), c, strings, "the job document");
  if (stored) fail(stored);
}

async function plantUpload(u: NonNullable<FuzzCase["upload"]>) {
  const deleteAt = String(Date.now() + 30 * 60_000);
  await getStorage()
    .bucket()
    .file(`transient/uploads/${u.uid}/${u.uploadId}`)
    .save(u.bytes, {
      resumable: false,
      contentType: u.contentType || undefined,
      metadata: { metadata: { ...uploadMetadata(u.metadataUid, Number(deleteAt)) } },
    });
}

/**
 * An upload a job took must be gone; one no job took stays until the scheduled purge (the harness
 * plays the purge so the end-of-run check sees only what the code under test left).
 */
async function checkUpload(c: FuzzCase, fail: (problem: string) => void) {
  const u = c.upload!;
  const file = getStorage().bucket().file(`transient/uploads/${u.uid}/${u.uploadId}`);
  const [exists] = await file.exists();
  if (!exists) return;
  if (c.uid && u.uid === c.uid && u.metadataUid === c.uid) {
    const requestId = (c.wire as { requestId?: unknown } | null)?.requestId;
    const { jobIdFor } = await import("../../src/jobs/jobId.js");
    const job =
      typeof requestId === "string"
        ? await getFirestore()
            .doc(`jobs/${jobIdFor(c.uid, requestId)}`)
            .get()
        : undefined;
    // A job that read this upload would have deleted it; a duplicate requestId answers from the old job.
    if (
      job?.exists &&
      job.get("uid") === c.uid &&
      job.get("createdAt")?.toMillis?.() >= Date.now() - 60_000 &&
      !c.tags.includes("replayed-requestId") &&
      c.parallel === 1
    ) {
      const image = (c.wire as { image?: unknown }).image as { uploadId?: unknown } | undefined;
      if (image?.uploadId === u.uploadId && job.get("status") !== "queued") fail("the job's upload was not deleted");
    }
  }
  await file.delete().catch(() => undefined);
}

async function endOfRun(
  seed: number,
  indices: number[],
  polls: PollTask[],
  pollVideoJob: (t: PollTask) => Promise<void>,
  callables: Record<CallableName, Parameters<typeof callAs>[0]>,
  fail: (problem: string, index?: number) => void,
) {
  await deliverPolls(polls, pollVideoJob, (e) => fail(`pollJob threw ${(e as Error)?.name}`));
  const caseOfJob = new Map(indices.map((i) => [jobIdOfCase(seed, i).jobId, i]));
  const db = getFirestore();
  for (const uid of FUZZ_UIDS) {
    const jobs = await db.collection("jobs").where("uid", "==", uid).get();
    for (const doc of jobs.docs) {
      // A client fetches a held video, then acknowledges it; that is when it must go.
      if (doc.get("status") === "succeeded" && doc.get("resultDeleted") === false) {
        await callAs(callables.ackJobResult, uid, { jobId: doc.id }).catch((e) =>
          fail(`ackJobResult of a held video failed: ${(e as Error)?.message}`, caseOfJob.get(doc.id)),
        );
      }
    }
    const after = await db.collection("jobs").where("uid", "==", uid).get();
    for (const doc of after.docs) {
      const status = doc.get("status");
      if (status === "queued" || status === "running") fail(`job ${doc.id} (${doc.get("feature")}) left ${status}`, caseOfJob.get(doc.id));
    }
  }
  const [files] = await getStorage().bucket().getFiles({ prefix: "transient/" });
  for (const f of files) {
    if (FUZZ_UIDS.some((uid) => f.name.includes(`/${uid}/`))) {
      const jobId = f.name.split("/").pop() ?? "";
      fail(`object left behind: ${f.name}`, caseOfJob.get(jobId));
    }
  }
}
