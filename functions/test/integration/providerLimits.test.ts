/**
 * Per-provider caps (config/runtime `providerLimits`, docs/PROVIDER-LIMITS.md), in-process against
 * the offline Firestore and Storage servers: image calls through a wire-level provider fake that
 * counts the requests it is serving at once; video jobs through the Cloud Tasks path as the tests
 * drive it (captured tasks delivered by hand), with a scripted VideoProvider.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import type { VideoProvider } from "../../src/providers/types.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import type { FakeServer } from "../support/fakeServer.js";
import { assertJobKeepsStatusOnly, assertLogsClean, assertNothingLeftFor, secretsOf, transientObjectsOf } from "../support/privacy.js";
import { makeFaceImage } from "../fixtures/images.js";
import { useScriptedProviderFake } from "../support/providerFakes.js";
import { PROVIDER_SCRIPTS, type ScriptContext } from "../support/providerScripts.js";
import { createJobRequest, faceImage } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(4000, 7)]);

/**
 * Counts the requests a fake is serving at once, and holds each one until `together` of them have
 * been there at once (or `deadlineMs` has passed since it arrived). On a busy machine concurrent
 * jobs reach the provider spread out in time, and one answered early would end before the last
 * arrives: without the hold, "N at once" would depend on timing. A cap below `together` never
 * lets the count be reached, so the peak stays under it and the test still fails.
 */
function atOnce(together: number, deadlineMs = 10_000) {
  const seen = { inFlight: 0, peak: 0 };
  const waiting: (() => void)[] = [];
  return {
    seen,
    async arrive(): Promise<void> {
      seen.peak = Math.max(seen.peak, ++seen.inFlight);
      if (seen.peak >= together) return waiting.splice(0).forEach((release) => release());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadlineMs);
        waiting.push(() => (clearTimeout(timer), resolve()));
      });
    },
    leave: () => void seen.inFlight--,
  };
}

async function setConfig(config: Record<string, unknown>) {
  await getFirestore().doc("config/runtime").set(config);
  (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();
}

beforeEach(async () => (await import("../support/dependencies.js")).resetImageLimiters());

describe("image calls: per-instance caps", () => {
  const fake = useScriptedProviderFake("seedream");
  let api: FakeServer;
  beforeEach(() => void (api = fake()));
  // The instances sharing each cap: createJob's maxInstances param, as a deploy sets it.
  afterEach(() => void delete process.env.CREATE_JOB_MAX_INSTANCES);

  /**
   * Seedream's fake, answering each request `delayMs` after `together` of them were there at once
   * (atOnce), recording how many it serves at once.
   */
  async function slowSeedream(delayMs: number, together = 1) {
    const resultJpeg = (await faceImage("jpeg", 300)).base64;
    const gate = atOnce(together);
    const seen = Object.assign(gate.seen, { spans: [] as { from: number; to: number }[] });
    api.on("POST", "/images/generations", async () => {
      const from = Date.now();
      await gate.arrive();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      gate.leave();
      seen.spans.push({ from, to: Date.now() });
      return { json: { model: "doubao-seedream-5-0-260128", created: 1, data: [{ b64_json: resultJpeg, size: "300x300" }] } };
    });
    return seen;
  }

  test("with maxConcurrent 2, six concurrent jobs never have more than two requests at the provider", async () => {
    await setConfig({
      enabledProviders: ["seedream", "local"],
      defaults: { style: { provider: "seedream" } },
      providerLimits: { seedream: { maxConcurrent: 2 } },
    });
    process.env.CREATE_JOB_MAX_INSTANCES = "1";
    const seen = await slowSeedream(150, 2);
    const { createJob } = await fns();
    const results = await Promise.all(
      [...Array(6).keys()].map(async (n) => callAs<{ status: string }>(createJob, `u-cap-${n}`, await createJobRequest({ style: "watercolor" }))),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array(6).fill("succeeded"),
    );
    assert.equal(api.calls.length, 6);
    assert.equal(seen.peak, 2, "at most two requests in flight at the provider");
    const overlapping = (at: number) => seen.spans.filter((s) => s.from <= at && at < s.to).length;
    assert.ok(
      seen.spans.every((s) => overlapping(s.from) <= 2),
      "timestamps agree: never three at once",
    );
  });

  test("the cap is divided among instances: maxConcurrent 4 over 2 instances lets two through here", async () => {
    await setConfig({ enabledProviders: ["seedream"], defaults: { style: { provider: "seedream" } }, providerLimits: { seedream: { maxConcurrent: 4 } } });
    process.env.CREATE_JOB_MAX_INSTANCES = "2";
    const seen = await slowSeedream(100, 2);
    const { createJob } = await fns();
    await Promise.all([...Array(5).keys()].map(async (n) => callAs(createJob, `u-share-${n}`, await createJobRequest({ style: "watercolor" }))));
    assert.equal(seen.peak, 2);
  });

  test("a provider at its per-minute cap refuses with provider-busy and retryAfterSeconds; autoFallback hands the job on", async () => {
    await setConfig({
      enabledProviders: ["seedream", "local"],
      defaults: { style: { provider: "seedream" } },
      providerLimits: { seedream: { requestsPerMinute: 1 } },
    });
    process.env.CREATE_JOB_MAX_INSTANCES = "1";
    await slowSeedream(0);
    const { createJob } = await fns();
    await callAs(createJob, "u-rpm", await createJobRequest({ style: "sepia" }));
    const error = await rejectionOf(callAs(createJob, "u-rpm", await createJobRequest({ style: "sepia" })));
    assert.equal(error.code, "unavailable");
    const details = error.details as { reason: string; retryAfterSeconds: number };
    assert.equal(details.reason, "provider-busy");
    assert.ok(details.retryAfterSeconds >= 55 && details.retryAfterSeconds <= 60, `retry after the minute: ${details.retryAfterSeconds}`);
    assert.equal(api.calls.length, 1, "the refused job's photo never reached the provider");
    await assertNothingLeftFor("u-rpm");

    await setConfig({
      enabledProviders: ["seedream", "local"],
      defaults: { style: { provider: "seedream" } },
      fallbackOrder: { style: ["local"] },
      autoFallback: true,
      providerLimits: { seedream: { requestsPerMinute: 1 } },
    });
    process.env.CREATE_JOB_MAX_INSTANCES = "1";
    const res = await callAs<{ jobId: string; status: string }>(createJob, "u-rpm-fb", await createJobRequest({ style: "sepia" }));
    assert.equal(res.status, "succeeded");
    const job = await assertJobKeepsStatusOnly(res.jobId);
    assert.equal(job.provider, "local");
    assert.deepEqual(job.fallbacks, [{ provider: "seedream", code: "provider-busy" }]);
  });
});

describe("image calls of a provider with no stated limit", () => {
  const fake = useScriptedProviderFake("openai");
  afterEach(() => void delete process.env.CREATE_JOB_MAX_INSTANCES);

  // A made-up default split over 150 instances would be 1 call at once and 1 start a minute per
  // instance: one instance would refuse 11 of these 12 users while 150 of them could still exceed it.
  test("are not capped by default: twelve concurrent OpenAI jobs on one instance all reach the provider at once", async () => {
    await setConfig({ enabledProviders: ["openai", "local"], defaults: { style: { provider: "openai" } } });
    process.env.CREATE_JOB_MAX_INSTANCES = "150"; // the param's default, as a deploy sets it
    const resultJpeg = (await faceImage("jpeg", 300)).base64;
    const gate = atOnce(12);
    fake().on("POST", "/images/edits", async () => {
      await gate.arrive();
      gate.leave();
      return { json: { created: 1767225600, output_format: "jpeg", data: [{ b64_json: resultJpeg }] } };
    });
    const { createJob } = await fns();
    const settled = await Promise.allSettled(
      [...Array(12).keys()].map(async (n) => callAs<{ status: string }>(createJob, `u-open-${n}`, await createJobRequest({ style: "watercolor" }))),
    );
    const outcomes = settled.map((r) => (r.status === "fulfilled" ? r.value.status : (r.reason as { details?: { reason?: string } }).details?.reason));
    assert.deepEqual(outcomes, Array(12).fill("succeeded"), "no provider-busy");
    assert.equal(fake().calls.length, 12);
    assert.equal(gate.seen.peak, 12, "all twelve at the provider at once");
    const { imageLimiterInFlight } = await import("../../src/jobs/providerLimits.js");
    assert.equal(imageLimiterInFlight("openai"), undefined, "no limiter was made for it");
  });

  test("an admin's providerLimits entry still caps them, per instance", async () => {
    await setConfig({
      enabledProviders: ["openai", "local"],
      defaults: { style: { provider: "openai" } },
      providerLimits: { openai: { requestsPerMinute: 300 } },
    });
    process.env.CREATE_JOB_MAX_INSTANCES = "150";
    PROVIDER_SCRIPTS.openai!.happyPath({ api: fake(), resultJpeg: await makeFaceImage({ width: 300, height: 300, format: "jpeg" }) } as ScriptContext);
    const { createJob } = await fns();
    await callAs(createJob, "u-open-cap1", await createJobRequest({ style: "watercolor" }));
    await callAs(createJob, "u-open-cap2", await createJobRequest({ style: "watercolor" }));
    const error = await rejectionOf(callAs(createJob, "u-open-cap3", await createJobRequest({ style: "watercolor" })));
    assert.equal(error.code, "unavailable");
    assert.equal((error.details as { reason: string }).reason, "provider-busy", "300/min over 150 instances is 2 starts a minute here");
    assert.equal(fake().calls.length, 2);
  });
});

describe("video jobs: caps across instances", () => {
  let queue: { task: PollTask; delayMs: number }[] = [];
  beforeEach(async () => {
    queue = [];
    (await import("../support/dependencies.js")).setPollEnqueuer(async (task, delayMs) => void queue.push({ task, delayMs }));
  });
  afterEach(async () => {
    (await import("../support/dependencies.js")).setPollEnqueuer(undefined);
    (await import("../support/dependencies.js")).overrideProvider("video:local", undefined);
  });

  /** Each task runs one status call, then succeeds; records when tasks start and end at the provider. */
  function countingProvider() {
    const events: string[] = [];
    let running = 0;
    let peak = 0;
    let next = 0;
    const provider: VideoProvider = {
      id: "local",
      models: { default: "local-kenburns-1", allowed: ["local-kenburns-1"] },
      polling: { firstDelayMs: 1_000, intervalsMs: [1_000], deadlineMs: 600_000 },
      async start(request) {
        assert.ok(request.image.bytes.byteLength > 100, "the provider gets the photo");
        peak = Math.max(peak, ++running);
        const id = `task-${++next}`;
        events.push(`start ${id}`);
        return { id, model: "local-kenburns-1" };
      },
      async status(op) {
        running--;
        events.push(`end ${op.id}`);
        return { state: "succeeded", raw: "SUCCEEDED", result: { bytes: MP4 } };
      },
      async openResult() {
        return { body: new Blob([MP4]).stream(), contentType: "video/mp4", contentLength: MP4.byteLength };
      },
      async cancel(op) {
        events.push(`cancel ${op.id}`);
      },
      classify: () => ({ kind: "permanent", message: "failed" }),
    };
    return { provider, events, peak: () => peak };
  }

  async function startVideo(uid: string, provider: VideoProvider) {
    (await import("../support/dependencies.js")).overrideProvider("video:local", provider);
    const request = await createJobRequest({ feature: "video", style: undefined, prompt: "a gentle smile" });
    const res = await callAs<{ jobId: string; status: string }>((await fns()).createJob, uid, request);
    return { ...res, request };
  }
  const deliver = async (task: PollTask, now?: number) => (await import("../../src/jobs/videoJob.js")).pollVideoJob(task, now);
  const take = (jobId: string) => {
    const i = queue.findIndex((q) => q.task.jobId === jobId);
    assert.ok(i >= 0, "a task is queued for the job");
    return queue.splice(i, 1)[0]!;
  };

  test("with maxConcurrent 1, the second job waits (queued, its photo staged) and starts after the first ends", async () => {
    await setConfig({ providerLimits: { local: { maxConcurrent: 1 } } });
    const { provider, events, peak } = countingProvider();
    const first = await startVideo("u-v1", provider);
    const second = await startVideo("u-v2", provider);
    assert.equal(first.status, "running");
    assert.equal(second.status, "queued");
    assert.deepEqual(await transientObjectsOf("u-v2"), [`transient/inputs/u-v2/${second.jobId}`], "held until it starts");
    const staged = await assertJobKeepsStatusOnly(second.jobId);
    assert.equal(staged.inputDeleted, false);

    // Its turn has not come: the attempt finds the slot taken and schedules the next one.
    const attempt1 = take(second.jobId);
    assert.deepEqual(attempt1.task, { jobId: second.jobId, attempt: 1, start: true });
    await deliver(attempt1.task);
    await deliver(attempt1.task); // a duplicate delivery changes nothing
    assert.equal((await assertJobKeepsStatusOnly(second.jobId)).status, "queued");
    const attempt2 = take(second.jobId);
    assert.deepEqual(attempt2.task, { jobId: second.jobId, attempt: 2, start: true });
    assert.equal(queue.length, 1, "only the first job's poll besides");

    await deliver(take(first.jobId).task); // the first task ends; its result is stored
    assert.equal((await assertJobKeepsStatusOnly(first.jobId)).status, "succeeded");
    await deliver(attempt2.task);
    const started = await assertJobKeepsStatusOnly(second.jobId);
    assert.equal(started.status, "running");
    assert.equal(started.inputDeleted, true);
    assert.deepEqual(await transientObjectsOf("u-v2"), [], "the staged photo went once the provider had it");
    await deliver(take(second.jobId).task);
    assert.equal((await assertJobKeepsStatusOnly(second.jobId)).status, "succeeded");

    assert.deepEqual(events, ["start task-1", "end task-1", "start task-2", "end task-2"]);
    assert.equal(peak(), 1);
    const slots = (await getFirestore().doc("providerSlots/local").get()).data();
    assert.deepEqual(slots?.leases, {}, "both slots given back");
    assertLogsClean(secretsOf({ base64: second.request.image.base64, prompt: "a gentle smile" }));
  });

  test("a job still waiting for a slot at its deadline is expired by the purge, its staged photo deleted", async () => {
    await setConfig({ providerLimits: { local: { maxConcurrent: 1 } } });
    const { provider, events } = countingProvider();
    const first = await startVideo("u-w1", provider);
    const waiting = await startVideo("u-w2", provider);
    assert.equal(waiting.status, "queued");
    await getFirestore()
      .doc(`jobs/${waiting.jobId}`)
      .update({ deadlineAt: Timestamp.fromMillis(Date.now() - 1) });
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    assert.equal((await purgeTransient()).jobsExpired, 1);
    const job = await assertJobKeepsStatusOnly(waiting.jobId);
    assert.equal(job.status, "expired");
    assert.equal(job.inputDeleted, true);
    await assertNothingLeftFor("u-w2");

    // The start attempt still scheduled for it arrives later and starts nothing.
    await deliver(take(waiting.jobId).task);
    assert.deepEqual(events, ["start task-1"]);
    assert.equal((await assertJobKeepsStatusOnly(first.jobId)).status, "running");
  });

  test("a start attempt that finds the deadline passed expires the job itself and deletes the staged photo", async () => {
    await setConfig({ providerLimits: { local: { maxConcurrent: 1 } } });
    const { provider, events } = countingProvider();
    await startVideo("u-d1", provider);
    const waiting = await startVideo("u-d2", provider);
    await deliver(take(waiting.jobId).task, Date.now() + 3_600_000);
    assert.equal((await assertJobKeepsStatusOnly(waiting.jobId)).status, "expired");
    await assertNothingLeftFor("u-d2");
    assert.deepEqual(events, ["start task-1"]);
  });

  test("cancelling a waiting job deletes its staged photo; cancelling a running one frees its slot", async () => {
    await setConfig({ providerLimits: { local: { maxConcurrent: 1 } } });
    const { provider, events } = countingProvider();
    const first = await startVideo("u-c1", provider);
    const waiting = await startVideo("u-c2", provider);
    const { cancelJob } = await fns();
    await callAs(cancelJob, "u-c2", { jobId: waiting.jobId });
    await assertNothingLeftFor("u-c2");
    await callAs(cancelJob, "u-c1", { jobId: first.jobId });
    assert.deepEqual((await getFirestore().doc("providerSlots/local").get()).data()?.leases, {});
    const third = await startVideo("u-c3", provider);
    assert.equal(third.status, "running", "the cancelled job's slot is free again");
    assert.deepEqual(events, ["start task-1", "cancel task-1", "start task-2"]);
  });

  test("a video provider with no stated limit gets the conservative caps, kept across instances", async () => {
    await setConfig({});
    const { videoLimitsOf } = await import("../../src/jobs/providerLimits.js");
    const { CONSERVATIVE } = await import("../../src/config/providerLimits.js");
    assert.deepEqual(await videoLimitsOf("seedance"), CONSERVATIVE);
    assert.deepEqual(CONSERVATIVE, { maxConcurrent: 10, requestsPerMinute: 60 });
    await setConfig({ providerLimits: { seedance: { requestsPerMinute: 0 } } });
    assert.deepEqual(await videoLimitsOf("seedance"), { maxConcurrent: 10 }, "an admin lifts one cap, the other stays");
  });

  test("a slot whose instance died lapses at that job's deadline", async () => {
    const { acquireVideoSlot } = await import("../../src/jobs/providerLimits.js");
    const now = Date.now();
    assert.deepEqual(await acquireVideoSlot("local", { maxConcurrent: 1 }, "a".repeat(40), now + 60_000, now), { granted: true });
    assert.equal((await acquireVideoSlot("local", { maxConcurrent: 1 }, "b".repeat(40), now + 60_000, now + 1_000)).granted, false);
    assert.deepEqual(await acquireVideoSlot("local", { maxConcurrent: 1 }, "b".repeat(40), now + 120_000, now + 60_000), { granted: true });
    const byRate = { requestsPerMinute: 2 };
    assert.equal((await acquireVideoSlot("local", byRate, "c".repeat(40), now + 120_000, now + 60_500)).granted, true);
    const refused = await acquireVideoSlot("local", byRate, "d".repeat(40), now + 120_000, now + 60_600);
    assert.deepEqual(refused, { granted: false, retryAfterMs: 59_400 }, "two starts in the last minute: the older ages out in 59.4 s");
  });
});
