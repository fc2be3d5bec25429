/** getJobResult, ackJobResult and cancelJob: owner only, idempotent, and consistent with the job's state. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { jobIdFor } from "../../src/jobs/jobId.js";
import * as state from "../../src/jobs/state.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertJobKeepsStatusOnly, assertNothingLeftFor } from "../support/privacy.js";
import { createJobRequest } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");

/** A job left running (as by a crashed invocation), with a staged input object. */
async function runningJobWithInput(uid: string, requestId = crypto.randomUUID()) {
  const jobId = jobIdFor(uid, requestId);
  const now = Date.now();
  await getFirestore()
    .doc(`jobs/${jobId}`)
    .set({
      ...state.queuedJob({ uid, requestId, feature: "style", provider: "local", model: "local-effects-1", now, deadlineMs: 600_000 }),
      ...state.started(now, 1),
    });
  await getStorage()
    .bucket()
    .file(`transient/inputs/${uid}/${jobId}`)
    .save(Buffer.from("face bytes"), {
      metadata: { metadata: { uid, jobId, kind: "inputs", deleteAt: String(now + 600_000) } },
    });
  return jobId;
}

describe("owner actions", () => {
  test("another user's jobId is refused on getJobResult, ackJobResult and cancelJob", async () => {
    const { createJob, getJobResult, ackJobResult, cancelJob } = await fns();
    const { jobId } = await callAs<{ jobId: string }>(createJob, "owner", await createJobRequest());
    for (const fn of [getJobResult, ackJobResult, cancelJob]) {
      const error = await rejectionOf(callAs(fn, "intruder", { jobId }));
      assert.equal(error.code, "permission-denied");
      assert.match(error.message, /^jobId/);
      assert.equal((await rejectionOf(callAs(fn, undefined, { jobId }))).code, "unauthenticated");
      assert.equal((await rejectionOf(callAs(fn, "owner", { jobId }, { appCheck: false }))).code, "permission-denied", "App Check is required");
      assert.equal((await rejectionOf(callAs(fn, "owner", { jobId: "nope" }))).code, "invalid-argument");
      assert.equal((await rejectionOf(callAs(fn, "owner", { jobId: "a".repeat(40) }))).code, "not-found");
      assert.equal((await rejectionOf(callAs(fn, "owner", { jobId, extra: 1 }))).code, "invalid-argument");
    }
    const job = await assertJobKeepsStatusOnly(jobId);
    assert.equal(job.status, "succeeded", "the intruder changed nothing");
  });

  test("getJobResult: an image job's result is not held after createJob returned it", async () => {
    const { createJob, getJobResult } = await fns();
    const { jobId } = await callAs<{ jobId: string }>(createJob, "u1", await createJobRequest());
    const error = await rejectionOf(callAs(getJobResult, "u1", { jobId }));
    assert.equal(error.code, "not-found");
    assert.match(error.message, /returned inline/);
  });

  test("getJobResult reports a running or failed job's status", async () => {
    const { getJobResult } = await fns();
    const jobId = await runningJobWithInput("u2");
    const { receipt, ...answer } = await callAs<{ receipt?: { inputDeleted: boolean } }>(getJobResult, "u2", { jobId });
    assert.deepEqual(answer, { jobId, status: "running" });
    assert.equal(receipt?.inputDeleted, false, "the receipt says the input is still there");
  });

  test("ackJobResult deletes any held result and is idempotent", async () => {
    const { createJob, ackJobResult } = await fns();
    const { jobId } = await callAs<{ jobId: string }>(createJob, "u3", await createJobRequest());
    await getStorage()
      .bucket()
      .file(`transient/results/u3/${jobId}`)
      .save(Buffer.from("result"), {
        metadata: { metadata: { uid: "u3", jobId, kind: "results", deleteAt: String(Date.now() + 60_000) } },
      });
    assert.deepEqual(await callAs(ackJobResult, "u3", { jobId }), { jobId, deleted: true });
    assert.deepEqual(await callAs(ackJobResult, "u3", { jobId }), { jobId, deleted: true });
    await assertNothingLeftFor("u3");
  });

  test("cancelJob ends a running job cancelled, deletes its input, and leaves terminal jobs alone", async () => {
    const { cancelJob, createJob } = await fns();
    const jobId = await runningJobWithInput("u4");
    assert.deepEqual(await callAs(cancelJob, "u4", { jobId }), { jobId, status: "cancelled" });
    const job = await assertJobKeepsStatusOnly(jobId);
    assert.equal(job.status, "cancelled");
    assert.equal(job.inputDeleted, true);
    assert.ok(job.finishedAt);
    await assertNothingLeftFor("u4");
    assert.deepEqual(await callAs(cancelJob, "u4", { jobId }), { jobId, status: "cancelled" }, "idempotent");

    const done = await callAs<{ jobId: string }>(createJob, "u4", await createJobRequest());
    assert.deepEqual(await callAs(cancelJob, "u4", { jobId: done.jobId }), { jobId: done.jobId, status: "succeeded" });
  });

  test("a job cancelled while its provider call runs stays cancelled and hands out no result", async () => {
    const { createJob, cancelJob } = await fns();
    const { localProvider } = await import("../../src/providers/local/index.js");
    const run = localProvider.run;
    const request = await createJobRequest();
    const jobId = jobIdFor("u5", request.requestId);
    localProvider.run = async (...args) => {
      await callAs(cancelJob, "u5", { jobId }); // the user cancels mid-flight
      return run.apply(localProvider, args);
    };
    try {
      const res = await callAs<{ status: string; result?: unknown }>(createJob, "u5", request);
      assert.equal(res.status, "cancelled");
      assert.equal(res.result, undefined);
      const job = await assertJobKeepsStatusOnly(jobId);
      assert.equal(job.status, "cancelled");
      assert.equal(job.inputDeleted, true);
    } finally {
      localProvider.run = run;
    }
  });

  test("a job past its deadline is not revived by a late finish", async () => {
    const jobId = await runningJobWithInput("u6");
    await getFirestore()
      .doc(`jobs/${jobId}`)
      .update({ deadlineAt: Timestamp.fromMillis(Date.now() - 1) });
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient();
    assert.equal(counts.jobsExpired, 1);
    const { cancelJob } = await fns();
    assert.deepEqual(await callAs(cancelJob, "u6", { jobId }), { jobId, status: "expired" });
  });
});
