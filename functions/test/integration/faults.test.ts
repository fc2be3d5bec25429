/**
 * Faults under load (docs/LOAD.md), pinned at the handler level in seconds: what `npm run chaos`
 * injects into the whole stack, each reduced to the state it leaves, then recovery and one purge.
 * Already pinned elsewhere (not repeated here): a video whose process died between start and the
 * first poll (videoJobs.test.ts), stale image jobs expired by the purge with their staged inputs
 * (purge.test.ts), cancel/purge/late-finish races (races.test.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import * as state from "../../src/jobs/state.js";
import { transientPaths } from "../../src/storage/paths.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertJobKeepsStatusOnly, assertNothingLeftFor } from "../support/privacy.js";
import { useScriptedProviderFake } from "../support/providerFakes.js";
import { createJobRequest } from "../support/requests.js";

const backends = useBackends();
const fns = () => import("../../src/index.js");

async function setConfig(config: Record<string, unknown>) {
  await getFirestore().doc("config/runtime").set(config);
  (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();
}

describe("faults: the terminal state each leaves", () => {
  const fake = useScriptedProviderFake("openai");

  test("a provider that never answers: the call ends deadline-exceeded, the job failed, nothing left", async () => {
    await setConfig({ enabledProviders: ["openai", "local"], defaults: { style: { provider: "openai" } } });
    fake().on("POST", "/images/edits", { hang: true });
    process.env.OPENAI_POLL_DEADLINE_MS = "300";
    try {
      const request = await createJobRequest({ style: "watercolor" });
      const error = await rejectionOf(callAs((await fns()).createJob, "u-hang", request));
      assert.equal(error.code, "deadline-exceeded");
      const jobs = await getFirestore().collection("jobs").where("uid", "==", "u-hang").get();
      assert.equal(jobs.size, 1);
      const job = await assertJobKeepsStatusOnly(jobs.docs[0]!.id);
      assert.equal(job.status, "failed");
      assert.equal(job.error?.code, "provider-deadline");
      assert.equal(job.inputDeleted, true);
      await assertNothingLeftFor("u-hang");
    } finally {
      delete process.env.OPENAI_POLL_DEADLINE_MS;
    }
  });

  test("an image job whose process died mid-call, its upload still stored: one purge past the deadlines expires it and deletes the upload", async () => {
    const db = getFirestore();
    const now = Date.now();
    const queued = state.queuedJob({ uid: "u-died", requestId: "r", feature: "style", provider: "openai", model: "m", now, deadlineMs: 600_000 });
    await db.doc("jobs/died").set({ ...queued, ...state.started(now, 1) });
    const uploadTtlMs = 30 * 60_000;
    await getStorage().bucket().file(transientPaths.upload("u-died", "up1")).save(Buffer.from("face"), {
      metadata: { metadata: { uid: "u-died", kind: "uploads", deleteAt: String(now + uploadTtlMs) } },
    });
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient({ now: now + uploadTtlMs + 60_000 });
    assert.equal(counts.jobsExpired, 1);
    const job = await assertJobKeepsStatusOnly("died");
    assert.equal(job.status, "expired");
    assert.equal(job.error?.code, "deadline-exceeded");
    assert.equal(job.inputDeleted, true);
    await assertNothingLeftFor("u-died");
  });

  // Known bug found by this test (see docs/LOAD.md): the Firestore error of the failed-job write
  // escapes callable.ts as `internal`, and the admin SDK's retries make this test take minutes.
  // Un-skip once callable.ts maps backend UNAVAILABLE to the documented `unavailable`.
  test("Firestore unavailable when a job finishes: the call fails with a documented code; after recovery one purge ends the job", { skip: "known bug: Firestore UNAVAILABLE reaches the client as internal (docs/LOAD.md)" }, async () => {
    await setConfig({ enabledProviders: ["openai", "local"], defaults: { style: { provider: "openai" } } });
    const firestore = backends.current().firestore;
    // The provider answers once Firestore is down: the finishing write cannot land.
    fake().on("POST", "/images/edits", () => {
      firestore.setUnavailable(true);
      return { status: 500, json: { error: { message: "internal", type: "server_error", code: null } } };
    });
    try {
      const error = await rejectionOf(callAs((await fns()).createJob, "u-fs", await createJobRequest({ style: "watercolor" })));
      assert.notEqual(error.code, "internal", `a documented code, not ${error.code}: ${error.message}`);
    } finally {
      firestore.setUnavailable(false);
    }
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    await purgeTransient({ now: Date.now() + 11 * 60_000 });
    const jobs = await getFirestore().collection("jobs").where("uid", "==", "u-fs").get();
    for (const doc of jobs.docs) {
      const job = await assertJobKeepsStatusOnly(doc.id);
      assert.ok(["failed", "expired"].includes(job.status), `job ${doc.id} is ${job.status}`);
      assert.equal(job.inputDeleted, true);
    }
    await assertNothingLeftFor("u-fs");
  });
});
