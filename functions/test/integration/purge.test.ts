/**
 * purgeTransient against the Storage emulator with thousands of objects: everything past its
 * deadline goes, every live object stays, stale jobs expire, and a second run finds nothing to do.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import * as state from "../../src/jobs/state.js";
import { mapWithConcurrency } from "../../src/util/concurrency.js";
import { useBackends } from "../support/backends.js";
import { assertJobKeepsStatusOnly } from "../support/privacy.js";

useBackends();

async function putObjects(prefix: string, count: number, metadata: (i: number) => Record<string, string> | undefined) {
  const bucket = getStorage().bucket();
  const names = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`);
  await mapWithConcurrency(names, 32, (name) =>
    bucket.file(name).save(Buffer.from("x"), { resumable: false, metadata: { metadata: metadata(Number(name.slice(-5))) } }),
  );
  return names;
}

async function remaining(prefix = "") {
  const [files] = await getStorage().bucket().getFiles({ prefix });
  return files.map((f) => f.name);
}

describe("purgeTransient", () => {
  test("deletes thousands of expired objects page by page and touches no live one", async () => {
    const now = Date.now();
    const meta = (uid: string, deleteAt: number) => () => ({ uid, kind: "results", deleteAt: String(deleteAt) });
    await putObjects("transient/results/expired-user/job-", 1500, meta("expired-user", now - 1_000));
    const live = await putObjects("transient/results/live-user/job-", 1500, meta("live-user", now + 3_600_000));
    // Objects with no metadata are judged by age: these are fresh, so they stay.
    const fresh = await putObjects("transient/uploads/no-meta/up-", 50, () => undefined);
    // Outside transient/ nothing is ever touched, whatever its metadata says.
    const outside = await putObjects("other/keep-", 20, meta("x", now - 1_000));

    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient({ pageSize: 200, concurrency: 32 });
    assert.equal(counts.objectsDeleted, 1500);
    assert.equal(counts.objectsScanned, 3050);
    assert.deepEqual((await remaining()).sort(), [...live, ...fresh, ...outside].sort());

    const again = await purgeTransient({ pageSize: 200 });
    assert.equal(again.objectsDeleted, 0, "idempotent");
  });

  test("an object without metadata older than the longest TTL is deleted", async () => {
    const [name] = await putObjects("transient/inputs/old/", 1, () => undefined);
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    assert.equal((await purgeTransient({ now: Date.now() + 24 * 3_600_000 })).objectsDeleted, 1);
    assert.deepEqual(await remaining(name), []);
  });

  test("a far-off deleteAt (forged by a writer) keeps no object past its kind's TTL after Storage created it", async () => {
    const forever = String(Date.UTC(2100, 0, 1));
    const [upload] = await putObjects("transient/uploads/forger/up-", 1, () => ({ uid: "forger", kind: "uploads", deleteAt: forever }));
    const [result] = await putObjects("transient/results/forger/job-", 1, () => ({ uid: "forger", kind: "results", deleteAt: forever }));
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const { settings } = await import("../../src/config/params.js");
    const s = settings();
    const minute = 60_000;
    // Still within both TTLs: kept.
    assert.equal((await purgeTransient({ now: Date.now() + minute })).objectsDeleted, 0);
    const uploadDue = Date.now() + s.uploadTtlMinutes * minute + 5_000;
    const resultDue = Date.now() + s.resultTtlMinutes * minute + 5_000;
    assert.equal((await purgeTransient({ now: Math.min(uploadDue, resultDue) })).objectsDeleted, s.uploadTtlMinutes === s.resultTtlMinutes ? 2 : 1);
    await purgeTransient({ now: Math.max(uploadDue, resultDue) });
    assert.deepEqual(await remaining("transient/uploads/forger/"), [], `${upload} is gone UPLOAD_TTL_MINUTES after it was created`);
    assert.deepEqual(await remaining("transient/results/forger/"), [], `${result} is gone RESULT_TTL_MINUTES after it was created`);
  });

  test("jobs stuck past their deadline are expired and their objects deleted; others are untouched", async () => {
    const db = getFirestore();
    const now = Date.now();
    const job = (uid: string, deadlineMs: number, status: "queued" | "running" | "succeeded") => {
      const doc = state.queuedJob({ uid, requestId: "r", feature: "style", provider: "local", model: "m", now: now - 60_000, deadlineMs });
      return status === "queued"
        ? doc
        : status === "running"
          ? { ...doc, ...state.started(now - 50_000, 1) }
          : { ...doc, ...state.succeededInline(now - 40_000, now - 50_000) };
    };
    const stale = Array.from({ length: 30 }, (_, i) => `stale${String(i).padStart(35, "0")}`);
    await Promise.all(stale.map((id, i) => db.doc(`jobs/${id}`).set(job(`u${i}`, 1_000, i % 2 ? "running" : "queued"))));
    await db.doc("jobs/live").set(job("ul", 3_600_000, "running"));
    await db.doc("jobs/done").set(job("ud", 1_000, "succeeded"));
    await getStorage()
      .bucket()
      .file(`transient/inputs/u3/${stale[3]}`)
      .save(Buffer.from("face"), {
        metadata: { metadata: { uid: "u3", jobId: stale[3]!, kind: "inputs", deleteAt: String(now + 3_600_000) } },
      });

    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient({ pageSize: 7 });
    assert.equal(counts.jobsExpired, 30);
    for (const id of stale) {
      const doc = await assertJobKeepsStatusOnly(id);
      assert.equal(doc.status, "expired");
      assert.equal(doc.inputDeleted, true);
      assert.equal(doc.error?.code, "deadline-exceeded");
    }
    assert.equal((await db.doc("jobs/live").get()).get("status"), "running");
    assert.equal((await db.doc("jobs/done").get()).get("status"), "succeeded");
    assert.deepEqual(await remaining("transient/inputs/u3/"), [], "the stale job's staged input is gone although its own deadline was later");
    assert.equal((await purgeTransient()).jobsExpired, 0, "idempotent");
  });
});
