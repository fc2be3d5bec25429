/**
 * The video pipeline in-process: createJob starts the provider's task, each `pollJob` task makes
 * one status call, the result is streamed into transient Storage, handed out by a short-lived URL,
 * deleted on ack or at its deadline. The provider is a scripted in-memory VideoProvider and the
 * Cloud Tasks queue is captured, so each test drives polls, duplicates and crashes itself.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import { ProviderFailure, type VideoProvider, type VideoStatus } from "../../src/providers/types.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertJobKeepsStatusOnly, assertLogsClean, assertNothingLeftFor, secretsOf } from "../support/privacy.js";
import { createJobRequest, faceImage } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(4000, 7)]);

/** A provider whose status answers follow a script; records every call. */
function scriptedProvider(statuses: (VideoStatus | Error)[], result: () => Uint8Array | Error = () => MP4) {
  const calls = { start: 0, status: 0, cancel: 0, deleteTask: 0, open: 0 };
  const provider: VideoProvider = {
    id: "local",
    models: { default: "local-kenburns-1", allowed: ["local-kenburns-1"] },
    polling: { firstDelayMs: 15_000, intervalsMs: [10_000, 20_000], deadlineMs: 600_000 },
    async start() {
      calls.start++;
      return { id: "task-1", model: "local-kenburns-1" };
    },
    async status() {
      const next = statuses[Math.min(calls.status++, statuses.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
    async openResult() {
      calls.open++;
      const bytes = result();
      if (bytes instanceof Error) throw bytes;
      return { body: new Blob([bytes]).stream(), contentType: "video/mp4", contentLength: bytes.byteLength };
    },
    async cancel() {
      calls.cancel++;
    },
    async deleteTask() {
      calls.deleteTask++;
    },
    classify: (e) => (e instanceof ProviderFailure ? e.error : { kind: "permanent", message: "failed" }),
  };
  return { provider, calls };
}

const running = (progress?: number): VideoStatus => ({ state: "running", raw: "RUNNING", ...(progress !== undefined && { progress }) });
const done: VideoStatus = { state: "succeeded", raw: "SUCCEEDED", result: { bytes: MP4 } };

let queue: { task: PollTask; delayMs: number }[] = [];

beforeEach(async () => {
  queue = [];
  (await import("../support/dependencies.js")).setPollEnqueuer(async (task, delayMs) => void queue.push({ task, delayMs }));
});
afterEach(async () => {
  (await import("../support/dependencies.js")).setPollEnqueuer(undefined);
  (await import("../support/dependencies.js")).overrideProvider("video:local", undefined);
});

async function startVideo(uid: string, provider: VideoProvider) {
  (await import("../support/dependencies.js")).overrideProvider("video:local", provider);
  const request = await createJobRequest({ feature: "video", style: undefined, prompt: "a gentle smile" });
  const res = await callAs<{ jobId: string; status: string }>((await fns()).createJob, uid, request);
  return { ...res, request };
}

/** Runs the next queued poll (or a given task) the way Cloud Tasks would deliver it. */
async function deliver(task = queue.shift()!.task, now?: number) {
  await (await import("../../src/jobs/videoJob.js")).pollVideoJob(task, now);
}

const job = async (jobId: string) => assertJobKeepsStatusOnly(jobId);

describe("video jobs", () => {
  test("start → polls → result streamed, handed out by URL, deleted on ack; input never stored", async () => {
    const { provider, calls } = scriptedProvider([{ state: "queued", raw: "PENDING" }, running(40), done]);
    const { jobId, status, request } = await startVideo("u-vid", provider);
    assert.equal(status, "running");
    let doc = await job(jobId);
    assert.equal(doc.status, "running");
    assert.equal(doc.inputDeleted, true, "the photo was only ever in memory and the provider has it");
    assert.equal(doc.providerTaskId, "task-1");
    await assertNothingLeftFor("u-vid");
    assert.deepEqual(
      queue.map((q) => q.task),
      [{ jobId, attempt: 1 }],
    );
    assert.ok(queue[0]!.delayMs >= 12_000 && queue[0]!.delayMs <= 18_000, "first poll after ~15 s (±20 %)");

    await deliver();
    await deliver();
    assert.equal((await job(jobId)).progress, 40);
    await deliver();
    assert.equal(calls.status, 3);
    doc = await job(jobId);
    assert.equal(doc.status, "succeeded");
    assert.equal(doc.resultDeleted, false);
    assert.ok(doc.resultExpiresAt!.toMillis() > Date.now());
    assert.equal(calls.deleteTask, 1, "the provider's copy is deleted once ours is safe");
    assert.equal(queue.length, 0, "no poll after the end");

    const [file] = await getStorage().bucket().file(`transient/results/u-vid/${jobId}`).getMetadata();
    assert.equal(file.metadata?.jobId, jobId);
    assert.equal(file.metadata?.kind, "results");
    const { getJobResult, ackJobResult } = await fns();
    const held = await callAs<{ result: { url: string; mimeType: string } }>(getJobResult, "u-vid", { jobId });
    assert.equal(held.result.mimeType, "video/mp4");
    const downloaded = Buffer.from(await (await fetch(held.result.url)).arrayBuffer());
    assert.ok(downloaded.equals(MP4), "the URL serves the video");
    assert.equal((await rejectionOf(callAs(getJobResult, "someone-else", { jobId }))).code, "permission-denied");

    await callAs(ackJobResult, "u-vid", { jobId });
    await assertNothingLeftFor("u-vid");
    assert.equal((await job(jobId)).resultDeleted, true);
    assert.equal((await rejectionOf(callAs(getJobResult, "u-vid", { jobId }))).code, "not-found");
    assertLogsClean([...secretsOf({ base64: request.image.base64 }), held.result.url]);
  });

  test("the real local provider: a playable MP4 made from the photo, adopted from the job's own prefix", async () => {
    const request = await createJobRequest({ feature: "video", style: undefined, image: await faceImage("jpeg", 384) });
    const { jobId, status } = await callAs<{ jobId: string; status: string }>((await fns()).createJob, "u-local", request);
    assert.equal(status, "running");
    // The task id is an opaque id, never the clip's location (the job keeps status only, §4).
    const started = await job(jobId);
    assert.match(started.providerTaskId ?? "", /^local-video-[0-9a-f-]{36}$/);
    await deliver();
    const doc = await job(jobId);
    assert.equal(doc.status, "succeeded");
    const exported = JSON.stringify(await callAs((await fns()).exportMyData, "u-local", {}));
    assert.ok(exported.includes(started.providerTaskId!), "the export shows the task id");
    assert.doesNotMatch(exported, /[a-z][a-z0-9+.-]*:\/\/|\.mp4/i, "the export holds no URL, nor the published clip's location");
    const [bytes] = await getStorage().bucket().file(`transient/results/u-local/${jobId}`).download();
    assert.equal(bytes.subarray(4, 8).toString("latin1"), "ftyp");
    const [files] = await getStorage()
      .bucket()
      .getFiles({ prefix: `transient/results/u-local/${jobId}/` });
    assert.deepEqual(files, [], "the provider's published copy was moved, not copied");
  });

  test("duplicate and stale task deliveries are dropped: one status claim, one next poll", async () => {
    const { provider } = scriptedProvider([running(10)]);
    const { jobId } = await startVideo("u-dup", provider);
    const first = queue.shift()!.task;
    await Promise.all([deliver(first), deliver(first), deliver(first)]);
    assert.deepEqual(
      queue.map((q) => q.task),
      [{ jobId, attempt: 2 }],
      "exactly one next poll",
    );
    assert.equal((await job(jobId)).attempts, 1);
    await deliver(first); // a late redelivery of attempt 1
    assert.equal(queue.length, 1);
  });

  test("a failed status call is retried later (honouring Retry-After), not counted as a failed job", async () => {
    const busy = new ProviderFailure({ kind: "retryable", message: "busy", retryAfterMs: 45_000 });
    const { provider } = scriptedProvider([busy, done]);
    const { jobId } = await startVideo("u-busy", provider);
    await deliver();
    assert.equal((await job(jobId)).status, "running");
    assert.equal(queue[0]!.delayMs >= 45_000, true);
    await deliver();
    assert.equal((await job(jobId)).status, "succeeded");
  });

  test("a provider's failure (policy on HTTP 200) ends the job failed; nothing is left", async () => {
    const { provider } = scriptedProvider([
      { state: "failed", raw: "FAILED", error: { kind: "policy_rejected", message: "This photo can't be animated by this provider." } },
    ]);
    const { jobId } = await startVideo("u-pol", provider);
    await deliver();
    const doc = await job(jobId);
    assert.equal(doc.status, "failed");
    assert.equal(doc.error?.code, "provider-policy-rejected");
    await assertNothingLeftFor("u-pol");
  });

  test("a provider that wrote into the job's result prefix, then reports failure: its object goes with the job", async () => {
    // Veo writes into our bucket (storageUri), and so does the local provider: a failed or
    // cancelled task's output there is face data the failed job must not leave for the purge.
    const { provider } = scriptedProvider([{ state: "failed", raw: "FAILED", error: { kind: "permanent", message: "The provider could not finish." } }]);
    const { jobId } = await startVideo("u-wrote", provider);
    const { transientPaths } = await import("../../src/storage/paths.js");
    await getStorage()
      .bucket()
      .file(`${transientPaths.result("u-wrote", jobId)}/provider-output.mp4`)
      .save(MP4);
    await deliver();
    assert.equal((await job(jobId)).status, "failed");
    await assertNothingLeftFor("u-wrote");
  });

  test("an unknown status value keeps polling until the deadline, then the job expires and the task is cancelled", async () => {
    const { provider, calls } = scriptedProvider([{ state: "running", raw: "SOMETHING_NEW" }]);
    const { jobId } = await startVideo("u-unk", provider);
    await deliver();
    await deliver();
    assert.equal((await job(jobId)).status, "running");
    const late = Date.now() + 3_600_000;
    await deliver(queue.shift()!.task, late);
    const doc = await job(jobId);
    assert.equal(doc.status, "expired");
    assert.equal(doc.error?.code, "deadline-exceeded");
    assert.equal(calls.cancel, 1);
    assert.equal(queue.length, 0);
  });

  test("the process dies between start and the first poll: the sweeper expires the job, cancels the task, purges its objects", async () => {
    const { provider, calls } = scriptedProvider([running()]);
    const { jobId } = await startVideo("u-crash", provider);
    queue = []; // the task was lost with the process
    await getStorage().bucket().file(`transient/results/u-crash/${jobId}/partial.mp4`).save(MP4);
    await getFirestore()
      .doc(`jobs/${jobId}`)
      .update({ deadlineAt: Timestamp.fromMillis(Date.now() - 1) });
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    assert.equal((await purgeTransient()).jobsExpired, 1);
    assert.equal((await job(jobId)).status, "expired");
    assert.equal(calls.cancel, 1);
    await assertNothingLeftFor("u-crash");
  });

  test("a result URL that expired before the download ends the job failed; nothing is left", async () => {
    const expired = new ProviderFailure({ kind: "permanent", message: "expired", providerCode: "result-expired" });
    const { provider } = scriptedProvider([done], () => expired);
    const { jobId } = await startVideo("u-exp", provider);
    await deliver();
    const doc = await job(jobId);
    assert.equal(doc.status, "failed");
    assert.equal(doc.error?.code, "provider-rejected");
    await assertNothingLeftFor("u-exp");
  });

  test("a result that is not a video is refused and polled again; one over the size cap fails the job", async () => {
    let answer: Uint8Array = Buffer.from("<html>error page</html>");
    const { provider } = scriptedProvider([done], () => answer);
    const { jobId } = await startVideo("u-bad", provider);
    await deliver();
    assert.equal((await job(jobId)).status, "running");
    await assertNothingLeftFor("u-bad");
    process.env.MAX_VIDEO_BYTES = "1000";
    try {
      answer = MP4;
      await deliver();
      const doc = await job(jobId);
      assert.equal(doc.status, "failed");
      await assertNothingLeftFor("u-bad");
    } finally {
      delete process.env.MAX_VIDEO_BYTES;
    }
  });

  test("cancelJob stops a running video at the provider; a later poll changes nothing", async () => {
    const { provider, calls } = scriptedProvider([done]);
    const { jobId } = await startVideo("u-can", provider);
    assert.deepEqual(await callAs((await fns()).cancelJob, "u-can", { jobId }), { jobId, status: "cancelled" });
    assert.equal(calls.cancel, 1);
    await deliver();
    assert.equal((await job(jobId)).status, "cancelled");
    assert.equal(calls.status, 0, "a poll for a terminal job does not call the provider");
    await assertNothingLeftFor("u-can");
  });

  test("a held result past its deadline is purged and the job records it", async () => {
    const { provider } = scriptedProvider([done]);
    const { jobId } = await startVideo("u-ttl", provider);
    await deliver();
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient({ now: Date.now() + 3 * 3_600_000 });
    assert.equal(counts.resultsExpired, 1);
    assert.equal((await job(jobId)).resultDeleted, true);
    await assertNothingLeftFor("u-ttl");
  });

  test("a task that cannot be queued is cancelled at the provider and the job ends failed", async () => {
    const { provider, calls } = scriptedProvider([done]);
    (await import("../support/dependencies.js")).setPollEnqueuer(async () => {
      throw new Error("Cloud Tasks unavailable");
    });
    const error = await rejectionOf(startVideo("u-noqueue", provider));
    assert.equal(error.code, "internal");
    assert.equal(calls.cancel, 1);
    const jobs = await getFirestore().collection("jobs").where("uid", "==", "u-noqueue").get();
    assert.equal(jobs.docs[0]!.get("status"), "failed");
    await assertNothingLeftFor("u-noqueue");
  });

  test("a provider whose task id is a location (URL or path) is refused: never stored, the task cancelled, the job failed", async () => {
    for (const [i, location] of [
      "gs://bucket/transient/results/u/j/clip.mp4",
      "https://cdn.example/clip.mp4",
      "/tmp/clip.mp4",
      "transient/results/u/j",
    ].entries()) {
      const { provider, calls } = scriptedProvider([done]);
      provider.start = async () => ({ id: location, model: "local-kenburns-1" });
      const uid = `u-leaky-${i}`;
      const error = await rejectionOf(startVideo(uid, provider));
      assert.equal(error.code, "internal", location);
      assert.equal(calls.cancel, 1, `${location}: the task nobody will poll is cancelled`);
      const jobs = await getFirestore().collection("jobs").where("uid", "==", uid).get();
      assert.equal(jobs.docs[0]!.get("status"), "failed");
      await assertJobKeepsStatusOnly(jobs.docs[0]!.id);
      assert.equal(jobs.docs[0]!.get("providerTaskId"), undefined, `${location} is not stored`);
      assert.equal(queue.length, 0);
    }
  });

  test("a start refused for quota ends the job failed with resource-exhausted", async () => {
    const { provider } = scriptedProvider([done]);
    provider.start = async () => {
      throw new ProviderFailure({ kind: "quota", message: "no credit" });
    };
    const error = await rejectionOf(startVideo("u-quota", provider));
    assert.equal(error.code, "resource-exhausted");
    const jobs = await getFirestore().collection("jobs").where("uid", "==", "u-quota").get();
    assert.equal(jobs.docs[0]!.get("status"), "failed");
    assert.equal(queue.length, 0);
  });
});
