/**
 * The privacy receipt over the callable contract: createJob's image answer and every getJobResult
 * answer say which provider got the photo and when our copies went, and agree with the job's
 * status document (the receipt is built from it, with no read or write of its own).
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import type { JobReceipt } from "../../src/jobs/receipt.js";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertJobKeepsStatusOnly } from "../support/privacy.js";
import { useScriptedProviderFake } from "../support/providerFakes.js";
import { PROVIDER_SCRIPTS } from "../support/providerScripts.js";
import { createJobRequest, faceImage } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");
type Answer = { jobId: string; status: string; progress?: number; error?: { code: string }; result?: { deleteAt?: string }; receipt?: JobReceipt };

const iso = (t?: FirebaseFirestore.Timestamp) => t?.toDate().toISOString();

describe("privacy receipt", () => {
  test("an image job's answer names the provider, the input's deletion and a result never stored, as the job document says", async () => {
    const { createJob } = await fns();
    const before = Date.now();
    const request = await createJobRequest({ style: "sepia" });
    const res = await callAs<Answer>(createJob, "r-img", request);
    assert.equal(res.status, "succeeded");
    const job = await assertJobKeepsStatusOnly(res.jobId);
    assert.deepEqual(res.receipt, {
      provider: "local",
      providerName: "Photo Fixer (on our servers)",
      model: "local-effects-1",
      providerRetention: res.receipt?.providerRetention,
      inputDeleted: true,
      inputDeletedAt: iso(job.finishedAt),
      resultDeleted: true,
      statusKeptUntil: iso(job.retainUntil),
    });
    assert.match(res.receipt!.providerRetention, /nothing is kept/);
    const deletedAt = Date.parse(res.receipt!.inputDeletedAt!);
    assert.ok(deletedAt >= before && deletedAt <= Date.now(), "deleted during this call");

    const retried = await callAs<Answer>(createJob, "r-img", request);
    assert.equal(retried.result, undefined, "a retry gets no second copy of the result");
    assert.deepEqual(retried.receipt, res.receipt, "a retry gets the same receipt");
  });

  test("getJobResult: a running job has not yet deleted its input; a failed one says when it did", async () => {
    const { getJobResult } = await fns();
    const { jobIdFor } = await import("../../src/jobs/jobId.js");
    const state = await import("../../src/jobs/state.js");
    const jobId = jobIdFor("r-run", crypto.randomUUID());
    const now = Date.now();
    await getFirestore()
      .doc(`jobs/${jobId}`)
      .set({
        ...state.queuedJob({ uid: "r-run", requestId: "r", feature: "edit", provider: "local", model: "local-effects-1", now, deadlineMs: 600_000 }),
        ...state.started(now, 1),
      });
    const running = await callAs<Answer>(getJobResult, "r-run", { jobId });
    assert.equal(running.status, "running");
    assert.equal(running.receipt?.inputDeleted, false);
    assert.equal(running.receipt?.inputDeletedAt, undefined);

    await getFirestore()
      .doc(`jobs/${jobId}`)
      .update(state.failed(now + 2_000, { code: "provider-unavailable", message: "down" }, now));
    const failed = await callAs<Answer>(getJobResult, "r-run", { jobId });
    assert.equal(failed.error?.code, "provider-unavailable");
    assert.equal(failed.receipt?.inputDeleted, true);
    assert.equal(failed.receipt?.inputDeletedAt, new Date(now + 2_000).toISOString());
    assert.equal((await rejectionOf(callAs(getJobResult, "someone-else", { jobId }))).code, "permission-denied", "no receipt for another user");
  });

  describe("a video job with the local provider", () => {
    let queue: PollTask[] = [];
    beforeEach(async () => {
      queue = [];
      (await import("../support/dependencies.js")).setPollEnqueuer(async (task) => void queue.push(task));
    });
    afterEach(async () => (await import("../support/dependencies.js")).setPollEnqueuer(undefined));

    test("input gone when the provider took it; the result held until its deadline, then no receipt once acknowledged", async () => {
      const { createJob, getJobResult, ackJobResult } = await fns();
      const request = await createJobRequest({ feature: "video", style: undefined, image: await faceImage("jpeg", 384) });
      const { jobId, status } = await callAs<Answer>(createJob, "r-vid", request);
      assert.equal(status, "running");
      const started = await callAs<Answer>(getJobResult, "r-vid", { jobId });
      const job = await assertJobKeepsStatusOnly(jobId);
      assert.equal(started.receipt?.provider, "local");
      assert.equal(started.receipt?.inputDeleted, true, "the photo was only in memory and the provider has it");
      assert.equal(started.receipt?.inputDeletedAt, iso(job.startedAt));
      assert.equal(started.receipt?.resultDeleted, true, "nothing held yet");
      assert.equal(started.receipt?.resultHeldUntil, undefined);

      await (await import("../../src/jobs/videoJob.js")).pollVideoJob(queue.shift()!);
      const held = await callAs<Answer>(getJobResult, "r-vid", { jobId });
      assert.equal(held.status, "succeeded");
      assert.equal(held.receipt?.inputDeletedAt, started.receipt?.inputDeletedAt, "the end of the job does not move the input's deletion");
      assert.equal(held.receipt?.resultDeleted, false);
      assert.equal(held.receipt?.resultHeldUntil, held.result?.deleteAt);
      assert.ok(Date.parse(held.receipt!.resultHeldUntil!) > Date.now());
      assert.doesNotMatch(JSON.stringify(held.receipt), /https?:/, "the URL is in result only");

      await callAs(ackJobResult, "r-vid", { jobId });
      assert.equal((await assertJobKeepsStatusOnly(jobId)).resultDeleted, true);
      assert.equal((await rejectionOf(callAs(getJobResult, "r-vid", { jobId }))).code, "not-found");
    });
  });

  describe("after an automatic fallback", () => {
    const seedream = PROVIDER_SCRIPTS.seedream!;
    const fake = useScriptedProviderFake("seedream");

    test("the provider tried first is named with its error: it may have received the photo too", async () => {
      await getFirestore()
        .doc("config/runtime")
        .set({
          enabledProviders: ["seedream", "local"],
          defaults: { style: { provider: "seedream" } },
          fallbackOrder: { style: ["local"] },
          autoFallback: true,
        });
      const api = fake();
      seedream.serverError({ api, cdn: api, resultJpeg: Buffer.alloc(0), resultPng: Buffer.alloc(0) });
      const res = await callAs<Answer>((await fns()).createJob, "r-fb", await createJobRequest({ style: "sepia" }));
      assert.equal(res.status, "succeeded");
      assert.ok(api.calls.length >= 1, "seedream was called first");
      assert.equal(res.receipt?.provider, "local");
      assert.deepEqual(res.receipt?.fallbacks, [{ provider: "seedream", code: "provider-unavailable" }]);
    });
  });
});
