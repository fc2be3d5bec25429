/**
 * Races on one job (issue 5, item 5): `cancelJob`, `ackJobResult`, the purge and a late `pollJob`
 * finish, run against the same video job, must leave it in one consistent terminal state.
 *
 * Each scenario runs every sequential order of its actors, then a number of concurrent runs whose
 * start offsets come from a fixed seed (RACE_SEED to vary it), so the interleavings differ from run
 * to run and any failure names the run that shows it. The provider's result download trickles in
 * chunks, so a poll is still streaming the video into Storage while the others act.
 *
 * After every run: the job's status is terminal and was the only terminal status it ever had (a
 * Firestore listener records every status it takes); `inputDeleted` is true; `resultDeleted` is
 * false exactly when the result object exists, and then nothing else of the job is in Storage;
 * the callables answer a documented response (never an error, never `internal`), and cancelJob's
 * answer is the job's final status; the provider's task is cancelled at most once by each actor
 * that found it unfinished, and at least once when the job ended cancelled or expired.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import type { JobDoc } from "../../src/jobs/schema.js";
import { ProviderFailure, type VideoProvider } from "../../src/providers/types.js";
import { mulberry32 } from "../fuzz/generators.js";
import { useBackends } from "../support/backends.js";
import { callAs } from "../support/callables.js";
import { assertJobKeepsStatusOnly } from "../support/privacy.js";
import { createJobRequest } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");

const SEED = Number(process.env.RACE_SEED ?? 5_005);
const CONCURRENT_RUNS = Number(process.env.RACE_RUNS ?? 6);
/** Actors start within this many milliseconds of each other in the concurrent runs. */
const SPREAD_MS = 60;
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(64_000, 7)]);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A video provider whose task has finished; its download trickles; every call is counted. */
function finishedTaskProvider() {
  const calls = { start: 0, status: 0, cancel: 0, deleteTask: 0, open: 0 };
  const provider: VideoProvider = {
    id: "local",
    models: { default: "local-kenburns-1", allowed: ["local-kenburns-1"] },
    polling: { firstDelayMs: 15_000, intervalsMs: [10_000], deadlineMs: 600_000 },
    async start() {
      calls.start++;
      return { id: "task-1", model: "local-kenburns-1" };
    },
    async status() {
      calls.status++;
      return { state: "succeeded", raw: "SUCCEEDED", result: { bytes: MP4 } };
    },
    async openResult() {
      calls.open++;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent >= MP4.length) return controller.close();
          await delay(8);
          const chunk = MP4.subarray(sent, sent + 16_000);
          sent += chunk.length;
          controller.enqueue(new Uint8Array(chunk));
        },
      });
      return { body, contentType: "video/mp4", contentLength: MP4.length };
    },
    async cancel() {
      calls.cancel++;
      await delay(3);
    },
    async deleteTask() {
      calls.deleteTask++;
    },
    classify: (e) => (e instanceof ProviderFailure ? e.error : { kind: "permanent", message: "failed" }),
  };
  return { provider, calls };
}

let queue: PollTask[] = [];

beforeEach(async () => {
  queue = [];
  (await import("../support/dependencies.js")).setPollEnqueuer(async (task) => void queue.push(task));
});
afterEach(async () => {
  (await import("../support/dependencies.js")).setPollEnqueuer(undefined);
  (await import("../support/dependencies.js")).overrideProvider("video:local", undefined);
});

/** A running video job (its first poll queued, not delivered). */
async function runningVideo(uid: string, provider: VideoProvider): Promise<string> {
  (await import("../support/dependencies.js")).overrideProvider("video:local", provider);
  const request = await createJobRequest({ feature: "video", style: undefined, prompt: "a gentle smile" });
  const { jobId, status } = await callAs<{ jobId: string; status: string }>((await fns()).createJob, uid, request);
  assert.equal(status, "running");
  return jobId;
}

/** A video job that succeeded and holds its result in transient/results. */
async function heldVideo(uid: string, provider: VideoProvider): Promise<string> {
  const jobId = await runningVideo(uid, provider);
  await deliverPoll();
  const job = await jobDoc(jobId);
  assert.equal(job.status, "succeeded");
  assert.equal(job.resultDeleted, false);
  assert.deepEqual(await objectsOf(uid), [`transient/results/${uid}/${jobId}`]);
  return jobId;
}

async function deliverPoll(now?: number) {
  const task = queue.shift();
  assert.ok(task, "a poll is queued");
  await (await import("../../src/jobs/videoJob.js")).pollVideoJob(task, now);
}

const jobDoc = (jobId: string): Promise<JobDoc> => assertJobKeepsStatusOnly(jobId);

async function objectsOf(uid: string): Promise<string[]> {
  const [files] = await getStorage().bucket().getFiles({ prefix: "transient/" });
  return files.map((f) => f.name).filter((n) => n.includes(`/${uid}/`));
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };
/** What a plan can wait for: the poll has claimed the finished task and starts streaming the video. */
interface RunSignals {
  streaming: Promise<void>;
}
/** How a run starts its actors: in a fixed order, or each when `start` resolves. */
type Plan = { name: string; order?: string[]; start: (actor: string, signals: RunSignals) => Promise<void> };

/** Steps through the poll's download and upload (about 40 ms): where a late finish can interleave. */
const streamingSteps = (stepMs: number) => Array.from({ length: Math.floor(44 / stepMs) + 1 }, (_, i) => i * stepMs);

/**
 * Every sequential order of the actors; with a poll among them, runs where the others start a
 * given number of milliseconds after the poll began streaming the video into Storage, stepping
 * through the whole transfer up to the moment it records its success; then concurrent runs with
 * seeded start offsets.
 */
function plans(actors: string[], stepMs = 4): Plan[] {
  const orders: string[][] = [];
  const permute = (done: string[], rest: string[]) => {
    if (!rest.length) return void orders.push(done);
    rest.forEach((a, i) => permute([...done, a], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  permute([], actors);
  const sequential = orders.map((order): Plan => ({ name: `in order ${order.join(" → ")}`, order, start: async () => {} }));
  const stepped = actors.includes("poll")
    ? streamingSteps(stepMs).map((ms): Plan => ({
        name: `the others ${ms} ms into the poll's transfer`,
        start: async (actor, signals) => {
          if (actor === "poll") return;
          await signals.streaming;
          await delay(ms);
        },
      }))
    : [];
  const rng = mulberry32(SEED);
  const concurrent = Array.from({ length: CONCURRENT_RUNS }, (_, i): Plan => {
    const offsets = Object.fromEntries(actors.map((a) => [a, Math.floor(rng.next() * SPREAD_MS)]));
    return { name: `concurrent run ${i} (seed ${SEED}, offsets ${JSON.stringify(offsets)})`, start: async (actor) => void (await delay(offsets[actor]!)) };
  });
  return [...sequential, ...stepped, ...concurrent];
}

/** Runs the actors per the plan; each actor's outcome is captured, never thrown. */
async function race(plan: Plan, signals: RunSignals, actors: Record<string, () => Promise<unknown>>): Promise<Record<string, Settled>> {
  const settle = (fn: () => Promise<unknown>) =>
    fn().then(
      (value): Settled => ({ ok: true, value }),
      (error): Settled => ({ ok: false, error }),
    );
  const out: Record<string, Settled> = {};
  if (plan.order) {
    for (const name of plan.order) out[name] = await settle(actors[name]!);
    return out;
  }
  await Promise.all(
    Object.entries(actors).map(async ([name, fn]) => {
      await plan.start(name, signals);
      out[name] = await settle(fn);
    }),
  );
  return out;
}

/**
 * Records every status the job document takes while the race runs, and signals when a poll has
 * claimed the finished task (progress 100 while still running): the video is streaming in.
 */
function watchStatuses(jobId: string) {
  const seen: string[] = [];
  let streamingNow = () => {};
  const streaming = new Promise<void>((resolve) => (streamingNow = resolve));
  const unsubscribe = getFirestore()
    .doc(`jobs/${jobId}`)
    .onSnapshot((snap) => {
      const status = snap.get("status") as string | undefined;
      if (status && seen[seen.length - 1] !== status) seen.push(status);
      if (status === "running" && snap.get("progress") === 100) streamingNow();
    });
  return {
    seen,
    streaming,
    async stop() {
      // Let the listener catch up with the document as it now is (a loaded machine is slow to deliver;
      // the deadline only bounds a listener that never does, which the checks then report).
      const now = (await getFirestore().doc(`jobs/${jobId}`).get()).get("status") as string;
      const until = Date.now() + 30_000;
      while (seen[seen.length - 1] !== now && Date.now() < until) await delay(5);
      unsubscribe();
    },
  };
}

const TERMINAL = ["succeeded", "failed", "cancelled", "expired"];

function valueOf(name: string, settled: Settled | undefined, where: string): unknown {
  assert.ok(settled, `${where}: ${name} ran`);
  if (!settled.ok) {
    const e = settled.error as { code?: string; message?: string; name?: string };
    assert.fail(`${where}: ${name} failed with ${e.code ?? e.name}: ${e.message}`);
  }
  return settled.value;
}

/** The invariants every run must end with; returns the final job document. */
async function assertOneConsistentEnd(uid: string, jobId: string, statuses: string[], where: string): Promise<JobDoc> {
  const job = await jobDoc(jobId);
  assert.ok(TERMINAL.includes(job.status), `${where}: ended ${job.status}`);
  const terminalSeen = statuses.filter((s) => TERMINAL.includes(s));
  assert.deepEqual([...new Set(terminalSeen)], [job.status], `${where}: one terminal state, never replaced (statuses seen: ${statuses.join(" → ")})`);
  assert.equal(job.inputDeleted, true, `${where}: inputDeleted`);
  assert.ok(job.finishedAt, `${where}: finishedAt`);
  const objects = await objectsOf(uid);
  const resultPath = `transient/results/${uid}/${jobId}`;
  if (job.status === "succeeded" && job.resultDeleted === false) {
    assert.deepEqual(objects, [resultPath], `${where}: a held result is exactly the result object`);
    const [bytes] = await getStorage().bucket().file(resultPath).download();
    assert.ok(bytes.equals(MP4), `${where}: the held result is the whole video`);
    assert.ok(job.resultExpiresAt, `${where}: a held result has its deadline`);
  } else {
    assert.deepEqual(objects, [], `${where}: nothing of the job is left in Storage (resultDeleted ${job.resultDeleted})`);
    if (job.status === "succeeded") assert.equal(job.resultDeleted, true, `${where}: resultDeleted is true once no result is held`);
    else assert.notEqual(job.resultDeleted, false, `${where}: an unfinished job holds no result`);
  }
  if (job.status === "expired") assert.equal(job.error?.code, "deadline-exceeded", `${where}: expired says why`);
  if (job.status === "cancelled") assert.equal(job.error, undefined, `${where}: cancelled carries no error`);
  return job;
}

describe("races on one video job", () => {
  test(
    "a held result hit by ackJobResult + cancelJob + the purge past resultExpiresAt: succeeded, result deleted once and recorded",
    { timeout: 120_000 },
    async () => {
      const { ackJobResult, cancelJob } = await fns();
      const { purgeTransient } = await import("../../src/privacy/purge.js");
      let run = 0;
      for (const plan of plans(["ack", "cancel", "purge"])) {
        const uid = `race-held-${run++}`;
        const { provider, calls } = finishedTaskProvider();
        const jobId = await heldVideo(uid, provider);
        const expiresAt = (await jobDoc(jobId)).resultExpiresAt!.toMillis();
        const watch = watchStatuses(jobId);
        const out = await race(plan, watch, {
          ack: () => callAs(ackJobResult, uid, { jobId }),
          cancel: () => callAs(cancelJob, uid, { jobId }),
          purge: () => purgeTransient({ now: expiresAt + 1_000 }),
        });
        await watch.stop();
        const where = `${uid}, ${plan.name}`;
        assert.deepEqual(valueOf("ackJobResult", out.ack, where), { jobId, deleted: true }, where);
        assert.deepEqual(valueOf("cancelJob", out.cancel, where), { jobId, status: "succeeded" }, `${where}: a finished job keeps its state`);
        const counts = valueOf("purge", out.purge, where) as { jobsExpired: number; resultsExpired: number };
        assert.equal(counts.jobsExpired, 0, where);
        const job = await assertOneConsistentEnd(uid, jobId, watch.seen, where);
        assert.equal(job.status, "succeeded", where);
        assert.equal(job.resultDeleted, true, where);
        assert.equal(calls.cancel, 0, `${where}: a finished task is never cancelled`);
        assert.equal(calls.deleteTask, 1, `${where}: the provider's copy was deleted once, when ours was safe`);
      }
    },
  );

  test(
    "a running video hit by cancelJob + the purge past its deadline + a late pollJob finish: one terminal state, nothing left over",
    { timeout: 120_000 },
    async () => {
      const { ackJobResult, cancelJob } = await fns();
      const { purgeTransient } = await import("../../src/privacy/purge.js");
      const ends: Record<string, number> = {};
      let run = 0;
      for (const plan of plans(["cancel", "purge", "poll"])) {
        const uid = `race-run-${run++}`;
        const { provider, calls } = finishedTaskProvider();
        const jobId = await runningVideo(uid, provider);
        const deadline = (await jobDoc(jobId)).deadlineAt.toMillis();
        const watch = watchStatuses(jobId);
        const out = await race(plan, watch, {
          cancel: () => callAs(cancelJob, uid, { jobId }),
          purge: () => purgeTransient({ now: deadline + 60_000 }),
          poll: () => deliverPoll(), // the provider's task has finished: the video streams in
        });
        await watch.stop();
        const where = `${uid}, ${plan.name}`;
        const answer = valueOf("cancelJob", out.cancel, where) as { jobId: string; status: string };
        valueOf("pollJob", out.poll, where);
        valueOf("purge", out.purge, where);
        const job = await assertOneConsistentEnd(uid, jobId, watch.seen, where);
        assert.ok(["cancelled", "expired", "succeeded"].includes(job.status), `${where}: ended ${job.status}`);
        assert.deepEqual(answer, { jobId, status: job.status }, `${where}: cancelJob answers the state the job ended in`);
        assert.ok(calls.cancel <= 2, `${where}: the task is cancelled at most once by cancelJob and once by the purge (${calls.cancel} calls)`);
        if (job.status !== "succeeded") assert.ok(calls.cancel >= 1, `${where}: a job that ended ${job.status} had its task cancelled`);
        assert.ok(calls.open <= 1 && calls.deleteTask <= 1, `${where}: the video was fetched at most once`);
        assert.equal(queue.length, 0, `${where}: no further poll is queued`);
        ends[job.status] = (ends[job.status] ?? 0) + 1;
        if (job.status === "succeeded" && job.resultDeleted === false) {
          // The poll won: the video is held for the client, who acknowledges it.
          await callAs(ackJobResult, uid, { jobId });
          assert.deepEqual(await objectsOf(uid), [], `${where}: ack empties it`);
        }
      }
      // The sequential orders alone reach each outcome: whoever acts first decides.
      for (const status of ["cancelled", "expired", "succeeded"]) assert.ok(ends[status]! > 0, `some run ended ${status} (${JSON.stringify(ends)})`);
    },
  );

  test(
    "ackJobResult while a late pollJob finish streams the video in: the result is either held whole or gone, as recorded",
    { timeout: 120_000 },
    async () => {
      const { ackJobResult } = await fns();
      let run = 0;
      for (const plan of plans(["ack", "poll"], 2)) {
        const uid = `race-ack-${run++}`;
        const { provider } = finishedTaskProvider();
        const jobId = await runningVideo(uid, provider);
        const watch = watchStatuses(jobId);
        const out = await race(plan, watch, {
          ack: () => callAs(ackJobResult, uid, { jobId }),
          poll: () => deliverPoll(),
        });
        await watch.stop();
        const where = `${uid}, ${plan.name}`;
        assert.deepEqual(valueOf("ackJobResult", out.ack, where), { jobId, deleted: true }, where);
        valueOf("pollJob", out.poll, where);
        const job = await assertOneConsistentEnd(uid, jobId, watch.seen, where);
        assert.equal(job.status, "succeeded", where);
      }
    },
  );
});
