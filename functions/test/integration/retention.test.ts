/**
 * Retention (issue #6 deliverable 6): the scheduled purge deletes ended job status documents older
 * than JOB_RETENTION_DAYS and records of privacy requests past their 24 months, page by page,
 * leaving everything younger (and every job still running) alone; new jobs carry the TTL field.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { jobIdFor } from "../../src/jobs/jobId.js";
import type { JobDoc } from "../../src/jobs/schema.js";
import * as state from "../../src/jobs/state.js";
import { useBackends } from "../support/backends.js";
import { callAs } from "../support/callables.js";
import { assertJobKeepsStatusOnly } from "../support/privacy.js";
import { createJobRequest } from "../support/requests.js";

useBackends();
const db = () => getFirestore();
const DAY = 86_400_000;

afterEach(() => {
  delete process.env.JOB_RETENTION_DAYS;
});

type Kind = "succeeded" | "failed" | "running";

/** A job created `ageDays` ago, ended (or still running, with a deadline still ahead). */
function jobCreated(uid: string, ageDays: number, kind: Kind, { legacy = false } = {}): JobDoc {
  const created = Date.now() - ageDays * DAY;
  const queued = state.queuedJob({ uid, requestId: "r", feature: "style", provider: "local", model: "m", now: created, deadlineMs: 600_000 });
  const doc: JobDoc =
    kind === "running"
      ? { ...queued, ...state.started(created + 1_000, 1), deadlineAt: Timestamp.fromMillis(Date.now() + 600_000) } // an artificial job that must stay
      : kind === "failed"
        ? { ...queued, ...state.failed(created + 2_000, { code: "x", message: "y" }, created + 1_000) }
        : { ...queued, ...state.succeededInline(created + 2_000, created + 1_000) };
  if (legacy) delete doc.retainUntil; // written before retainUntil existed
  return doc;
}

async function put(docs: [string, JobDoc][]) {
  for (let i = 0; i < docs.length; i += 400) {
    const batch = db().batch();
    for (const [id, doc] of docs.slice(i, i + 400)) batch.set(db().doc(`jobs/${id}`), doc);
    await batch.commit();
  }
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => jobIdFor(prefix, String(i)));

describe("retention purge", () => {
  test("ended jobs older than JOB_RETENTION_DAYS go, page by page (1,200 among 300 younger); younger and running ones stay; idempotent", async () => {
    const old = ids("old", 1_200);
    const young = ids("young", 300);
    await put(old.map((id, i) => [id, jobCreated(`u${i % 7}`, 31 + (i % 50), i % 3 ? "succeeded" : "failed", { legacy: i % 10 === 0 })]));
    await put(young.map((id, i) => [id, jobCreated(`u${i % 7}`, i % 29, "succeeded")]));
    const [running] = ids("running", 1);
    await put([[running!, jobCreated("u1", 40, "running")]]);

    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient({ pageSize: 200 });
    assert.equal(counts.jobsDeleted, 1_200, "legacy documents without retainUntil go by createdAt too");
    assert.equal(counts.jobsExpired, 0);
    const left = new Set((await db().collection("jobs").get()).docs.map((d) => d.id));
    assert.deepEqual(left, new Set([...young, running]));
    assert.equal((await db().doc(`jobs/${running}`).get()).get("status"), "running", "a job still running is never deleted for its age");
    assert.equal((await purgeTransient({ pageSize: 200 })).jobsDeleted, 0, "idempotent");
  });

  test("JOB_RETENTION_DAYS is honoured (7 days here)", async () => {
    process.env.JOB_RETENTION_DAYS = "7";
    const [eight, six] = ids("days", 2);
    await put([
      [eight!, jobCreated("u", 8, "succeeded")],
      [six!, jobCreated("u", 6, "succeeded")],
    ]);
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    assert.equal((await purgeTransient()).jobsDeleted, 1);
    assert.equal((await db().doc(`jobs/${eight}`).get()).exists, false);
    assert.equal((await db().doc(`jobs/${six}`).get()).exists, true);
  });

  test("a job stuck past its deadline and past retention is first expired, then deleted in the same run", async () => {
    const [stuck] = ids("stuck", 1);
    const created = Date.now() - 40 * DAY;
    await put([
      [
        stuck!,
        {
          ...state.queuedJob({ uid: "u", requestId: "r", feature: "style", provider: "local", model: "m", now: created, deadlineMs: 600_000 }),
          ...state.started(created, 1),
        },
      ],
    ]);
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const counts = await purgeTransient();
    assert.deepEqual([counts.jobsExpired, counts.jobsDeleted], [1, 1]);
    assert.equal((await db().doc(`jobs/${stuck}`).get()).exists, false);
  });

  test("records of privacy requests go after their 24 months, not before", async () => {
    const { recordPrivacyRequest } = await import("../../src/privacy/requestRecords.js");
    const now = Date.now();
    await recordPrivacyRequest("old-user", { type: "delete", channel: "app", requestedAt: now - 731 * DAY }, { outcome: "fulfilled" });
    await recordPrivacyRequest("old-user", { type: "know", channel: "app", requestedAt: now - 700 * DAY }, { outcome: "fulfilled" });
    await recordPrivacyRequest("new-user", { type: "opt-out", channel: "gpc-signal", requestedAt: now }, { outcome: "fulfilled" });
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    assert.equal((await purgeTransient()).requestRecordsDeleted, 1);
    const left = (await db().collection("privacyRequests").get()).docs.map((d) => d.get("type")).sort();
    assert.deepEqual(left, ["know", "opt-out"]);
    assert.equal((await purgeTransient()).requestRecordsDeleted, 0);
  });

  test("createJob sets retainUntil (the Firestore TTL field) to creation + JOB_RETENTION_DAYS, in the create write", async () => {
    const { createJob } = await import("../../src/index.js");
    const res = await callAs<{ jobId: string }>(createJob, "ttl-user", await createJobRequest());
    const job = await assertJobKeepsStatusOnly(res.jobId);
    assert.equal(job.retainUntil!.toMillis() - job.createdAt.toMillis(), 30 * DAY);
  });

  test("a deletion marker left by a crashed deletion goes once stale; one underway, one beside counters, and one a job replaced stay", async () => {
    const { deletionMarker, DELETION_MARKER_STALE_MS } = await import("../../src/quotas/deletionMarker.js");
    const { purgeStaleDeletionMarkers } = await import("../../src/privacy/retention.js");
    const now = Date.now();
    const stale = now - DELETION_MARKER_STALE_MS - 1_000;
    await db().doc("quotas/crashed-1").set(deletionMarker(stale));
    await db()
      .doc("quotas/crashed-2")
      .set(deletionMarker(stale - DAY));
    await db()
      .doc("quotas/underway")
      .set(deletionMarker(now - 1_000));
    await db()
      .doc("quotas/with-counters")
      .set({ ...deletionMarker(stale), hour: { count: 2 } });
    await db()
      .doc("quotas/plain")
      .set({ hour: { count: 1 } });

    assert.equal(await purgeStaleDeletionMarkers(now, { pageSize: 1 }), 2);
    const left = (await db().collection("quotas").listDocuments()).map((d) => d.id).sort();
    assert.deepEqual(left, ["plain", "underway", "with-counters"]);
    assert.equal(await purgeStaleDeletionMarkers(now), 0, "idempotent");

    // The purge's counts carry it (and the admins' statistics, through PURGE_FIELDS).
    await db().doc("quotas/crashed-3").set(deletionMarker(stale));
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    assert.equal((await purgeTransient({ now })).deletionMarkersDeleted, 1);
  });

  test("a marker a job's write replaced between the purge's read and its delete stays with the job's counters", async () => {
    const { deletionMarker, DELETION_MARKER_STALE_MS } = await import("../../src/quotas/deletionMarker.js");
    const { purgeStaleDeletionMarkers } = await import("../../src/privacy/retention.js");
    const now = Date.now();
    const ref = db().doc("quotas/racing");
    await ref.set(deletionMarker(now - DELETION_MARKER_STALE_MS - 1_000));
    const read = await ref.get();
    await ref.set({ ...deletionMarker(now - DELETION_MARKER_STALE_MS - 1_000), hour: { count: 1 } });
    await assert.rejects(ref.delete({ lastUpdateTime: read.updateTime! }), (e: { code?: number }) => e.code === 9, "the server honours the precondition");
    assert.equal(await purgeStaleDeletionMarkers(now), 0);
    assert.equal((await ref.get()).get("hour.count"), 1);
  });
});
