/**
 * Per-user quotas and automatic provider fallback, in-process against the offline Firestore and
 * Storage servers: limits from config/runtime, enforced atomically with job creation (concurrent
 * requests cannot overshoot), refusals that say when to retry and leave nothing behind, and the
 * per-job Firestore budget (ARCHITECTURE §10) counted on the wire.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { randomUUID } from "node:crypto";
import { getFirestore } from "firebase-admin/firestore";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import { ProviderFailure, type VideoProvider } from "../../src/providers/types.js";

import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import type { FakeServer } from "../support/fakeServer.js";
import { assertJobKeepsStatusOnly, assertNothingLeftFor } from "../support/privacy.js";
import { useScriptedProviderFake } from "../support/providerFakes.js";
import { PROVIDER_SCRIPTS } from "../support/providerScripts.js";
import { createJobRequest } from "../support/requests.js";

const backends = useBackends();
const fns = () => import("../../src/index.js");
type Created = { jobId: string; status: string; result?: { base64: string } };

async function setConfig(config: Record<string, unknown>) {
  await getFirestore().doc("config/runtime").set(config);
  (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();
}
const quotaDoc = async (uid: string) => (await getFirestore().doc(`quotas/${uid}`).get()).data();
const jobsOf = async (uid: string) => (await getFirestore().collection("jobs").where("uid", "==", uid).get()).docs;
const styleLimits = (perHour: number, perDay = 100, maxConcurrentJobs = 3) => ({
  enabledProviders: ["local"],
  quotas: { perFeature: { style: { perHour, perDay } }, maxConcurrentJobs },
});

describe("quotas", () => {
  test("an image job costs one Firestore read and three writes once config/runtime is cached", async () => {
    await setConfig(styleLimits(100));
    const { createJob } = await fns();
    await callAs(createJob, "u-warm", await createJobRequest()); // reads config/runtime into the cache
    const before = backends.current().firestore.usage();
    const res = await callAs<Created>(createJob, "u-budget", await createJobRequest());
    const after = backends.current().firestore.usage();
    assert.equal(res.status, "succeeded");
    assert.deepEqual({ reads: after.reads - before.reads, writes: after.writes - before.writes }, { reads: 1, writes: 3 });
  });

  test("over the hourly limit: resource-exhausted with the time to retry; no job, nothing stored", async () => {
    await setConfig(styleLimits(2));
    const { createJob } = await fns();
    const first = await createJobRequest();
    await callAs(createJob, "u-hour", first);
    await callAs(createJob, "u-hour", await createJobRequest());
    const started = Date.now();
    const error = await rejectionOf(callAs(createJob, "u-hour", await createJobRequest()));
    assert.equal(error.code, "resource-exhausted");
    assert.match(error.message, /^You have reached the hourly limit for this feature; try again in (59|60) minutes$/);
    const details = error.details as { reason: string; retryAfterSeconds: number; retryAt: string };
    assert.equal(details.reason, "quota-hourly");
    assert.ok(details.retryAfterSeconds > 3500 && details.retryAfterSeconds <= 3600, `retryAfterSeconds ${details.retryAfterSeconds}`);
    assert.ok(Math.abs(Date.parse(details.retryAt) - (started + details.retryAfterSeconds * 1000)) < 5_000);
    assert.equal((await jobsOf("u-hour")).length, 2, "the refused request created no job");
    await assertNothingLeftFor("u-hour");

    // A retry of a request that already has its job gets that job, not a quota error.
    const replay = await callAs<Created>(createJob, "u-hour", first);
    assert.equal(replay.status, "succeeded");
    // Another feature and another user are not affected.
    assert.equal((await callAs<Created>(createJob, "u-hour", await createJobRequest({ feature: "enhance", style: undefined }))).status, "succeeded");
    assert.equal((await callAs<Created>(createJob, "u-other", await createJobRequest())).status, "succeeded");
  });

  test("the daily limit holds across hour windows", async () => {
    await setConfig(styleLimits(10, 1));
    const { createJob } = await fns();
    await callAs(createJob, "u-day", await createJobRequest());
    const error = await rejectionOf(callAs(createJob, "u-day", await createJobRequest()));
    assert.equal(error.code, "resource-exhausted");
    assert.equal((error.details as { reason: string }).reason, "quota-daily");
    assert.ok((error.details as { retryAfterSeconds: number }).retryAfterSeconds > 23 * 3600);
  });

  test("ten concurrent requests against a limit of five: exactly five jobs run", async () => {
    await setConfig(styleLimits(5, 100, 20));
    const { createJob } = await fns();
    const requests = await Promise.all(Array.from({ length: 10 }, () => createJobRequest()));
    const results = await Promise.allSettled(requests.map((r) => callAs<Created>(createJob, "u-burst", r)));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(ok.length, 5);
    assert.deepEqual(
      refused.map((r) => (r.reason as { code: string }).code),
      Array(5).fill("resource-exhausted"),
    );
    assert.equal((await jobsOf("u-burst")).length, 5);
    assert.equal((await quotaDoc("u-burst"))?.features.style.hourCount, 5);
  });

  test("ten concurrent duplicates count once", async () => {
    await setConfig(styleLimits(5));
    const { createJob } = await fns();
    const request = await createJobRequest();
    const results = await Promise.all(Array.from({ length: 10 }, () => callAs<Created>(createJob, "u-dup", request)));
    assert.equal(new Set(results.map((r) => r.jobId)).size, 1);
    assert.equal((await jobsOf("u-dup")).length, 1);
    assert.equal((await quotaDoc("u-dup"))?.features.style.hourCount, 1);
  });

  test("a mangled quota document (an admin's edit) starts over instead of locking the user out", async () => {
    await setConfig(styleLimits(5));
    await getFirestore().doc("quotas/u-mangled").set({ features: "oops", active: 3 });
    const res = await callAs<Created>((await fns()).createJob, "u-mangled", await createJobRequest());
    assert.equal(res.status, "succeeded");
    assert.equal((await quotaDoc("u-mangled"))?.features.style.hourCount, 1);
  });

  describe("concurrently running jobs", () => {
    let queue: PollTask[] = [];
    beforeEach(async () => {
      queue = [];
      (await import("../support/dependencies.js")).setPollEnqueuer(async (task) => void queue.push(task));
      (await import("../support/dependencies.js")).overrideProvider("video:local", neverEndingVideo());
    });
    afterEach(async () => {
      (await import("../support/dependencies.js")).setPollEnqueuer(undefined);
      (await import("../support/dependencies.js")).overrideProvider("video:local", undefined);
    });

    test("at the cap a new job is refused until one ends; the freed slot is found without any bookkeeping write", async () => {
      await setConfig({ enabledProviders: ["local"], quotas: { maxConcurrentJobs: 2 } });
      const { createJob, cancelJob } = await fns();
      const video = () => createJobRequest({ feature: "video", style: undefined });
      const a = await callAs<Created>(createJob, "u-cap", await video());
      await callAs<Created>(createJob, "u-cap", await video());
      assert.equal(a.status, "running");

      const error = await rejectionOf(callAs(createJob, "u-cap", await createJobRequest()));
      assert.equal(error.code, "resource-exhausted");
      assert.equal((error.details as { reason: string }).reason, "quota-concurrent");
      assert.equal((error.details as { retryAfterSeconds: number }).retryAfterSeconds, 60);

      await callAs(cancelJob, "u-cap", { jobId: a.jobId });
      const res = await callAs<Created>(createJob, "u-cap", await createJobRequest());
      assert.equal(res.status, "succeeded", "the cancelled job's slot is free");
      assert.deepEqual(Object.keys((await quotaDoc("u-cap"))?.active).length, 2, "the ended job left the running set");
    });
  });
});

describe("automatic fallback to the next provider", () => {
  const seedream = PROVIDER_SCRIPTS.seedream!;
  const fake = useScriptedProviderFake("seedream");
  let api: FakeServer;
  beforeEach(() => void (api = fake()));
  const fallbackConfig = (autoFallback = true) =>
    setConfig({ enabledProviders: ["seedream", "local"], defaults: { style: { provider: "seedream" } }, fallbackOrder: { style: ["local"] }, autoFallback });

  test("a provider that is down hands the job to the next one; the job records both", async () => {
    await fallbackConfig();
    seedream.serverError({ api, cdn: api, resultJpeg: Buffer.alloc(0), resultPng: Buffer.alloc(0) });
    const res = await callAs<Created>((await fns()).createJob, "u-fb", await createJobRequest({ style: "sepia" }));
    assert.equal(res.status, "succeeded");
    assert.ok(res.result, "the fallback's result is returned");
    assert.ok(api.calls.length >= 1, "the default provider was tried first");
    const job = await assertJobKeepsStatusOnly(res.jobId);
    assert.equal(job.provider, "local");
    assert.equal(job.model, "local-effects-1");
    assert.deepEqual(job.fallbacks, [{ provider: "seedream", code: "provider-unavailable" }]);
    await assertNothingLeftFor("u-fb");
  });

  test("a stand-in that cannot take the request is skipped; the user hears why the first one failed", async () => {
    await fallbackConfig();
    seedream.serverError({ api, cdn: api, resultJpeg: Buffer.alloc(0), resultPng: Buffer.alloc(0) });
    // "watercolor" is a Seedream preset the local provider does not have.
    const error = await rejectionOf(callAs((await fns()).createJob, "u-fb-unsuited", await createJobRequest({ style: "watercolor" })));
    assert.equal(error.code, "unavailable");
    const [doc] = await jobsOf("u-fb-unsuited");
    const job = await assertJobKeepsStatusOnly(doc!.id);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.code, "provider-unavailable");
    assert.deepEqual(job.fallbacks, [{ provider: "seedream", code: "provider-unavailable" }]);
  });

  test("a provider quota error also falls back", async () => {
    await fallbackConfig();
    api.on("POST", "/images/generations", { status: 403, json: { error: { code: "AccountOverdueError", message: "no credit" } } });
    const res = await callAs<Created>((await fns()).createJob, "u-fb-quota", await createJobRequest({ style: "sepia" }));
    assert.equal(res.status, "succeeded");
    const job = await assertJobKeepsStatusOnly(res.jobId);
    assert.equal(job.fallbacks?.[0]?.provider, "seedream");
    assert.equal(job.fallbacks?.[0]?.code, "provider-quota");
  });

  test("never after a policy rejection: the photo goes to no other provider", async () => {
    await fallbackConfig();
    api.on("POST", "/images/generations", { status: 400, json: { error: { code: "InputImageSensitiveContentDetected", message: "rejected" } } });
    const error = await rejectionOf(callAs((await fns()).createJob, "u-fb-policy", await createJobRequest({ style: "watercolor" })));
    assert.equal(error.code, "failed-precondition");
    const [doc] = await jobsOf("u-fb-policy");
    const job = await assertJobKeepsStatusOnly(doc!.id);
    assert.equal(job.status, "failed");
    assert.equal(job.provider, "seedream");
    assert.equal(job.fallbacks, undefined);
    assert.equal(job.error?.code, "provider-policy-rejected");
  });

  test("not when the client named the provider, nor when admins left it off", async () => {
    await fallbackConfig();
    seedream.serverError({ api, cdn: api, resultJpeg: Buffer.alloc(0), resultPng: Buffer.alloc(0) });
    const named = await rejectionOf(callAs((await fns()).createJob, "u-fb-named", await createJobRequest({ provider: "seedream", style: "watercolor" })));
    assert.equal(named.code, "unavailable");
    await fallbackConfig(false);
    const off = await rejectionOf(callAs((await fns()).createJob, "u-fb-off", await createJobRequest({ style: "watercolor" })));
    assert.equal(off.code, "unavailable");
    const [doc] = await jobsOf("u-fb-off");
    assert.equal((await assertJobKeepsStatusOnly(doc!.id)).provider, "seedream");
  });

  test("when every provider is down the job fails with the last error and lists the ones skipped", async () => {
    await fallbackConfig();
    seedream.serverError({ api, cdn: api, resultJpeg: Buffer.alloc(0), resultPng: Buffer.alloc(0) });
    const { overrideProvider } = await import("../support/dependencies.js");
    const local = await (await import("../../src/providers/registry.js")).loadProvider("local");
    overrideProvider("image:local", {
      ...local,
      run: async () => {
        throw new ProviderFailure({ kind: "retryable", message: "The provider is down." });
      },
    });
    try {
      const error = await rejectionOf(callAs((await fns()).createJob, "u-fb-all", await createJobRequest({ style: "sepia" })));
      assert.equal(error.code, "unavailable");
      const [doc] = await jobsOf("u-fb-all");
      const job = await assertJobKeepsStatusOnly(doc!.id);
      assert.equal(job.status, "failed");
      assert.equal(job.provider, "local");
      assert.deepEqual(job.fallbacks, [{ provider: "seedream", code: "provider-unavailable" }]);
      assert.equal(job.inputDeleted, true);
    } finally {
      overrideProvider("image:local", undefined);
    }
  });

  test("video: a provider that cannot start hands the task to the next one, which is then polled", async () => {
    await setConfig({
      enabledProviders: ["local", "kling"],
      defaults: { video: { provider: "local" } },
      fallbackOrder: { video: ["kling"] },
      autoFallback: true,
    });
    process.env.KLING_ACCESS_KEY = "kling-test-access";
    process.env.KLING_SECRET_KEY = "kling-test-secret";
    const queue: PollTask[] = [];
    const { setPollEnqueuer } = await import("../support/dependencies.js");
    const { overrideProvider } = await import("../support/dependencies.js");
    setPollEnqueuer(async (task) => void queue.push(task));
    overrideProvider("video:local", {
      ...neverEndingVideo(),
      start: async () => {
        throw new ProviderFailure({ kind: "retryable", message: "down" });
      },
    });
    overrideProvider("video:kling", { ...neverEndingVideo(), id: "kling", models: { default: "kling-v2-6", allowed: ["kling-v2-6"] } });
    try {
      const res = await callAs<Created>(
        (await fns()).createJob,
        "u-fb-video",
        await createJobRequest({ feature: "video", style: undefined, requestId: randomUUID() }),
      );
      assert.equal(res.status, "running");
      const job = await assertJobKeepsStatusOnly(res.jobId);
      assert.equal(job.provider, "kling");
      assert.equal(job.model, "kling-v2-6");
      assert.deepEqual(job.fallbacks, [{ provider: "local", code: "provider-unavailable" }]);
      assert.equal(queue.length, 1, "the next poll is scheduled for the provider that has the task");
    } finally {
      setPollEnqueuer(undefined);
      overrideProvider("video:local", undefined);
      overrideProvider("video:kling", undefined);
      delete process.env.KLING_ACCESS_KEY;
      delete process.env.KLING_SECRET_KEY;
    }
  });
});

/** A video provider whose task runs until cancelled. */
function neverEndingVideo(): VideoProvider {
  return {
    id: "local",
    models: { default: "local-kenburns-1", allowed: ["local-kenburns-1"] },
    async start() {
      return { id: `task-${randomUUID()}`, model: "local-kenburns-1" };
    },
    async status() {
      return { state: "running", raw: "RUNNING" };
    },
    async openResult() {
      throw new Error("no result");
    },
    async cancel() {},
    classify: (e) => (e instanceof ProviderFailure ? e.error : { kind: "permanent", message: "failed" }),
  };
}
