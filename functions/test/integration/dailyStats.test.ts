/**
 * The admins' daily statistics (`stats/{YYYY-MM-DD}`) against the local Firestore server: job
 * figures from job status documents of several features, providers and statuses across day
 * boundaries; an idempotent recompute that replaces stale figures and keeps the purge counts; the
 * purge's one write per run; a day of thousands of jobs read in pages; the backfill of missed days;
 * the scheduled trigger as Cloud Scheduler fires it; and nothing personal in any of it.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import functionsTest from "firebase-functions-test";
import type { JobDoc } from "../../src/jobs/schema.js";
import type { JobStatus } from "../../src/domain/jobStatus.js";
import * as state from "../../src/jobs/state.js";
import type { Feature } from "../../src/domain/features.js";
import { useBackends } from "../support/backends.js";
import { capturedLogs } from "../support/logCapture.js";

const backends = useBackends();
const store = () => import("../../src/stats/statsStore.js");

const at = (iso: string) => Date.parse(iso);
const STARTED_AFTER_MS = 100;

interface Seed {
  createdAt: number;
  feature: Feature;
  provider: string;
  status: JobStatus;
  durationMs?: number;
  errorCode?: string;
  fallbacks?: { provider: string; code: string }[];
}

/** A job status document as the pipeline writes it (state.ts), for a synthetic user. */
function jobDoc(seed: Seed, uid: string): JobDoc {
  const created = seed.createdAt;
  const startedAt = created + STARTED_AFTER_MS;
  const endedAt = startedAt + (seed.durationMs ?? 0);
  const queued = state.queuedJob({
    uid,
    requestId: randomUUID(),
    feature: seed.feature,
    provider: seed.provider,
    model: "m-1",
    now: created,
    deadlineMs: 600_000,
  });
  const running = { ...queued, ...state.started(startedAt, 1) };
  const ended: Record<JobStatus, () => JobDoc> = {
    queued: () => queued,
    running: () => running,
    succeeded: () => ({ ...running, ...state.succeededInline(endedAt, startedAt) }),
    failed: () => ({ ...running, ...state.failed(endedAt, { code: seed.errorCode!, message: "The provider is unavailable." }, startedAt) }),
    cancelled: () => ({ ...running, ...state.cancelled(endedAt, startedAt) }),
    expired: () => ({ ...running, ...state.expired(endedAt, startedAt) }),
  };
  return { ...ended[seed.status](), ...(seed.fallbacks && { fallbacks: seed.fallbacks }) };
}

/** Writes the jobs in batches; returns what identifies users and jobs, to look for in the statistics. */
async function seedJobs(seeds: Seed[]): Promise<{ ids: string[]; personal: string[] }> {
  const db = getFirestore();
  const ids: string[] = [];
  const personal: string[] = [];
  for (let i = 0; i < seeds.length; i += 500) {
    const batch = db.batch();
    seeds.slice(i, i + 500).forEach((seed, j) => {
      const id = randomBytes(20).toString("hex");
      const doc = jobDoc(seed, `user-${randomBytes(6).toString("hex")}-${i + j}`);
      batch.set(db.doc(`jobs/${id}`), doc);
      ids.push(id);
      personal.push(id, doc.uid, doc.requestId);
    });
    await batch.commit();
  }
  return { ids, personal };
}

const statsDoc = async (day: string) => (await getFirestore().doc(`stats/${day}`).get()).data();

const DAY1 = "2026-11-20";
const DAY2 = "2026-11-21";
const SEEDS: Seed[] = [
  { createdAt: at("2026-11-19T23:59:59.999Z"), feature: "style", provider: "local", status: "succeeded", durationMs: 777 }, // the day before
  { createdAt: at("2026-11-20T00:00:00.000Z"), feature: "style", provider: "local", status: "succeeded", durationMs: 1_000 },
  { createdAt: at("2026-11-20T08:00:00Z"), feature: "style", provider: "openai", status: "succeeded", durationMs: 3_000 },
  { createdAt: at("2026-11-20T09:00:00Z"), feature: "style", provider: "openai", status: "failed", durationMs: 200, errorCode: "provider-unavailable" },
  {
    createdAt: at("2026-11-20T10:00:00Z"),
    feature: "edit",
    provider: "bfl",
    status: "succeeded",
    durationMs: 5_000,
    fallbacks: [{ provider: "openai", code: "provider-unavailable" }],
  },
  { createdAt: at("2026-11-20T11:00:00Z"), feature: "video", provider: "veo", status: "expired", durationMs: 1_200_000 },
  { createdAt: at("2026-11-20T12:00:00Z"), feature: "video", provider: "local", status: "succeeded", durationMs: 4_000 },
  { createdAt: at("2026-11-20T13:00:00Z"), feature: "cutout", provider: "local", status: "cancelled", durationMs: 50 },
  { createdAt: at("2026-11-20T14:00:00Z"), feature: "enhance", provider: "picwish", status: "queued" },
  { createdAt: at("2026-11-20T23:59:59.999Z"), feature: "edit", provider: "openai", status: "failed", durationMs: 300, errorCode: "provider-policy-rejected" },
  { createdAt: at("2026-11-21T00:00:00.000Z"), feature: "style", provider: "local", status: "succeeded", durationMs: 2_000 },
  { createdAt: at("2026-11-21T06:00:00Z"), feature: "edit", provider: "gemini", status: "running" },
];

const EXPECTED_DAY1 = {
  day: DAY1,
  schemaVersion: 1,
  jobs: {
    total: 9,
    byStatus: { queued: 1, running: 0, succeeded: 4, failed: 2, cancelled: 1, expired: 1 },
    byFeature: {
      style: { total: 3, succeeded: 2, failed: 1 },
      edit: { total: 2, succeeded: 1, failed: 1 },
      video: { total: 2, succeeded: 1, expired: 1 },
      cutout: { total: 1, cancelled: 1 },
      enhance: { total: 1, queued: 1 },
    },
    byProvider: {
      local: { total: 3, succeeded: 2, cancelled: 1 },
      openai: { total: 3, succeeded: 1, failed: 2 },
      bfl: { total: 1, succeeded: 1 },
      veo: { total: 1, expired: 1 },
      picwish: { total: 1, queued: 1 },
    },
    byErrorCode: { "provider-unavailable": 1, "deadline-exceeded": 1, "provider-policy-rejected": 1 },
  },
  // Succeeded jobs: 1000, 3000, 4000, 5000 → nearest rank: p50 the 2nd, p95 the 4th.
  durationMs: {
    all: { count: 4, p50: 3_000, p95: 5_000, max: 5_000 },
    byFeature: {
      style: { count: 2, p50: 1_000, p95: 3_000, max: 3_000 },
      edit: { count: 1, p50: 5_000, p95: 5_000, max: 5_000 },
      video: { count: 1, p50: 4_000, p95: 4_000, max: 4_000 },
    },
  },
  fallbacks: { jobs: 1, skipped: 1, byProvider: { openai: 1 }, byCode: { "provider-unavailable": 1 } },
};

/** The document without its computation time, for comparing figures. */
function figures(doc: FirebaseFirestore.DocumentData | undefined) {
  assert.ok(doc, "the statistics document exists");
  const { computedAt, purge, ...rest } = doc;
  assert.ok(computedAt instanceof Timestamp);
  return rest;
}

describe("daily statistics", () => {
  test("one document per UTC day from the jobs created that day; idempotent; a recompute replaces stale figures and keeps the purge counts", async () => {
    const { personal } = await seedJobs(SEEDS);
    const { computeDailyStats } = await store();
    const now = at("2026-11-22T01:00:00Z");

    assert.deepEqual(await computeDailyStats(DAY1, { now }), { day: DAY1, jobs: 9, pagesRead: 1 });
    await computeDailyStats(DAY2, { now });
    const first = await statsDoc(DAY1);
    assert.deepEqual(figures(first), EXPECTED_DAY1);
    assert.equal((first!.computedAt as Timestamp).toMillis(), now);
    const day2 = figures(await statsDoc(DAY2));
    assert.equal(day2.jobs.total, 2);
    assert.deepEqual(day2.jobs.byStatus, { queued: 0, running: 1, succeeded: 1, failed: 0, cancelled: 0, expired: 0 });
    assert.deepEqual(day2.jobs.byProvider, { local: { total: 1, succeeded: 1 }, gemini: { total: 1, running: 1 } });
    assert.deepEqual(day2.durationMs.all, { count: 1, p50: 2_000, p95: 2_000, max: 2_000 });
    assert.equal(await statsDoc("2026-11-19"), undefined, "a day that was not computed has no document");

    // Nothing personal: no uid, job id or request id anywhere in either document, nor in the log line.
    const written = JSON.stringify([first, await statsDoc(DAY2)]);
    for (const value of personal) assert.ok(!written.includes(value), `statistics hold ${value}`);
    const line = JSON.parse(/\{[^{}]*"message":"daily statistics computed"\}/.exec(capturedLogs())?.[0] ?? "null");
    assert.deepEqual({ ...line, durationMs: 0 }, { day: DAY1, jobs: 9, pagesRead: 1, durationMs: 0, severity: "INFO", message: "daily statistics computed" });
    for (const value of personal) assert.ok(!capturedLogs().includes(value), `log holds ${value}`);

    // The same run again writes the very same document.
    await computeDailyStats(DAY1, { now });
    assert.deepEqual(await statsDoc(DAY1), first);

    // A purge ran that day meanwhile; then the queued job expired and the policy-rejected one was
    // deleted (its user deleted their data). The recompute replaces every figure (no stale map key
    // survives) and leaves the purge's counts alone.
    const db = getFirestore();
    await db.doc(`stats/${DAY1}`).set({ purge: { runs: 3, objectsDeleted: 7 } }, { merge: true });
    const jobs = await db.collection("jobs").where("provider", "in", ["picwish", "openai"]).get();
    for (const doc of jobs.docs) {
      if (doc.get("provider") === "picwish") await doc.ref.update({ ...state.expired(at("2026-11-20T14:10:00Z")) });
      if (doc.get("error.code") === "provider-policy-rejected") await doc.ref.delete();
    }
    const later = at("2026-11-22T02:00:00Z");
    await computeDailyStats(DAY1, { now: later });
    const recomputed = await statsDoc(DAY1);
    assert.deepEqual(recomputed!.purge, { runs: 3, objectsDeleted: 7 });
    assert.equal((recomputed!.computedAt as Timestamp).toMillis(), later);
    const r = figures(recomputed);
    assert.equal(r.jobs.total, 8);
    assert.deepEqual(r.jobs.byStatus, { queued: 0, running: 0, succeeded: 4, failed: 1, cancelled: 1, expired: 2 });
    assert.deepEqual(r.jobs.byErrorCode, { "provider-unavailable": 1, "deadline-exceeded": 2 });
    assert.deepEqual(r.jobs.byFeature.edit, { total: 1, succeeded: 1 });
    assert.deepEqual(r.jobs.byFeature.enhance, { total: 1, expired: 1 });
    assert.deepEqual(r.jobs.byProvider.openai, { total: 2, succeeded: 1, failed: 1 });
    assert.deepEqual(r.jobs.byProvider.picwish, { total: 1, expired: 1 });
  });

  test("an empty day gets a document of zeros", async () => {
    await seedJobs(SEEDS);
    const { computeDailyStats } = await store();
    assert.deepEqual(await computeDailyStats("2026-11-25", { now: at("2026-11-26T01:00:00Z") }), { day: "2026-11-25", jobs: 0, pagesRead: 1 });
    assert.deepEqual(figures(await statsDoc("2026-11-25")), {
      day: "2026-11-25",
      schemaVersion: 1,
      jobs: {
        total: 0,
        byStatus: { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0 },
        byFeature: {},
        byProvider: {},
        byErrorCode: {},
      },
      durationMs: { all: { count: 0, p50: null, p95: null, max: null }, byFeature: {} },
      fallbacks: { jobs: 0, skipped: 0, byProvider: {}, byCode: {} },
    });
  });

  test("a day with thousands of jobs, many created in the same millisecond, is read in pages: each job once, one read per job, one write", async () => {
    const day = "2026-11-23";
    const statuses: JobStatus[] = ["succeeded", "succeeded", "failed", "cancelled", "expired"];
    const providers = ["local", "openai", "bfl", "kling"];
    // Only five distinct creation times: page boundaries fall inside runs of equal createdAt.
    const seeds: Seed[] = Array.from({ length: 2_500 }, (_, i) => ({
      createdAt: at(`${day}T0${i % 5}:00:00Z`),
      feature: "style",
      provider: providers[i % 4]!,
      status: statuses[i % 5]!,
      durationMs: i + 1,
      ...(statuses[i % 5] === "failed" && { errorCode: "provider-unavailable" }),
    }));
    // Neighbours on both sides, not counted.
    seeds.push({ ...seeds[0]!, createdAt: at("2026-11-22T23:59:59.999Z") }, { ...seeds[0]!, createdAt: at("2026-11-24T00:00:00Z") });
    await seedJobs(seeds);
    const { computeDailyStats } = await store();
    const firestore = backends.current().firestore;
    const { reads: readsBefore, writes: writesBefore } = firestore.usage();

    const result = await computeDailyStats(day, { now: at("2026-11-24T01:00:00Z"), pageSize: 300 });
    assert.deepEqual(result, { day, jobs: 2_500, pagesRead: 9 });
    const after = firestore.usage();
    assert.equal(after.reads - readsBefore, 2_500, "one read per job of the day, none of another day");
    assert.equal(after.writes - writesBefore, 1, "one write");

    const s = figures(await statsDoc(day));
    assert.equal(s.jobs.total, 2_500);
    assert.deepEqual(s.jobs.byStatus, { queued: 0, running: 0, succeeded: 1_000, failed: 500, cancelled: 500, expired: 500 });
    assert.deepEqual(s.jobs.byProvider.local, { total: 625, succeeded: 250, failed: 125, cancelled: 125, expired: 125 });
    assert.deepEqual(s.jobs.byErrorCode, { "provider-unavailable": 500, "deadline-exceeded": 500 });
    // Succeeded durations are i+1 for i ≡ 0 or 1 (mod 5): 1, 2, 6, 7, …, 2497 (1,000 values).
    const succeeded = Array.from({ length: 2_500 }, (_, i) => i + 1).filter((_, i) => i % 5 < 2);
    assert.deepEqual(s.durationMs.all, { count: 1_000, p50: succeeded[499], p95: succeeded[949], max: 2_497 });
  });

  test("each purge run adds its counts to the day it ran on, in one write, beside the job figures", async () => {
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    const { computeDailyStats } = await store();
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const bucket = getStorage().bucket();
    const expired = { metadata: { metadata: { uid: "u1", kind: "results", deleteAt: String(now - 1_000) } } };
    await bucket.file("transient/results/u1/a").save(Buffer.from("x"), expired);
    await bucket.file("transient/results/u1/b").save(Buffer.from("x"), expired);
    const firestore = backends.current().firestore;

    const writesBefore = firestore.usage().writes;
    await purgeTransient({ now });
    assert.equal(firestore.usage().writes - writesBefore, 1, "no job, no retention: the statistics write is the run's only Firestore write");
    await computeDailyStats(today, { now });
    await bucket.file("transient/results/u1/c").save(Buffer.from("x"), expired);
    await purgeTransient({ now: now + 1 });

    const doc = await statsDoc(today);
    assert.deepEqual(doc!.purge, {
      runs: 2,
      objectsDeleted: 3,
      jobsExpired: 0,
      resultsExpired: 0,
      jobsDeleted: 0,
      requestRecordsDeleted: 0,
      deletionMarkersDeleted: 0,
      lastRunAt: Timestamp.fromMillis(now + 1),
    });
    assert.equal(doc!.jobs.total, 0, "the purge's write kept the job figures");
    assert.equal((doc!.computedAt as Timestamp).toMillis(), now);
    await computeDailyStats(today, { now: now + 2 });
    assert.equal((await statsDoc(today))!.purge.runs, 2, "a recompute keeps the purge counts");
  });

  test("the daily run computes yesterday and backfills the recent days that have no job figures, once", async () => {
    const db = getFirestore();
    await seedJobs([...SEEDS, { createdAt: at("2026-11-16T12:00:00Z"), feature: "cutout", provider: "picwish", status: "succeeded", durationMs: 900 }]);
    // 11-17 was computed (a sentinel it must keep); 11-16 has only a purge run's counts.
    await db.doc("stats/2026-11-17").set({ day: "2026-11-17", computedAt: Timestamp.fromMillis(at("2026-11-18T01:00:00Z")), jobs: { total: 999 } });
    await db.doc("stats/2026-11-16").set({ day: "2026-11-16", purge: { runs: 144 } });
    const { computeDueDailyStats } = await store();
    const now = at("2026-11-22T01:00:00Z");

    assert.deepEqual(await computeDueDailyStats(now), ["2026-11-21", "2026-11-20", "2026-11-19", "2026-11-18", "2026-11-16", "2026-11-15"]);
    assert.deepEqual(figures(await statsDoc(DAY1)), EXPECTED_DAY1);
    assert.equal((await statsDoc("2026-11-17"))!.jobs.total, 999, "a computed day is not recomputed by the backfill");
    const backfilled = await statsDoc("2026-11-16");
    assert.equal(backfilled!.jobs.total, 1);
    assert.deepEqual(backfilled!.purge, { runs: 144 });
    assert.equal((await statsDoc("2026-11-19"))!.jobs.total, 1);
    assert.equal(await statsDoc("2026-11-14"), undefined, "older than the backfill window");

    assert.deepEqual(await computeDueDailyStats(now + 3_600_000), ["2026-11-21"], "a second run only recomputes yesterday");
  });

  test("the exported dailyStats schedule, as Cloud Scheduler fires it, writes yesterday's document", async () => {
    // The schedule reads the clock itself: near midnight UTC its "yesterday" could be a day later
    // than the one seeded here. Started in the last minute of a day, the test waits for the next.
    const intoDay = Date.now() % 86_400_000;
    if (intoDay > 86_400_000 - 60_000) await new Promise((r) => setTimeout(r, 86_400_000 - intoDay + 1_000));
    const now = Date.now();
    const yesterdayStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate()) - 86_400_000;
    const yesterday = new Date(yesterdayStart).toISOString().slice(0, 10);
    await seedJobs([
      { createdAt: yesterdayStart + 3_600_000, feature: "style", provider: "local", status: "succeeded", durationMs: 1_234 },
      { createdAt: yesterdayStart + 7_200_000, feature: "video", provider: "local", status: "failed", durationMs: 10, errorCode: "provider-rejected" },
    ]);
    const fft = functionsTest({ projectId: "demo-photo-fixer" });
    try {
      const { dailyStats } = await import("../../src/index.js");
      await (fft.wrap(dailyStats as never) as () => Promise<void>)();
    } finally {
      fft.cleanup();
    }
    const doc = figures(await statsDoc(yesterday));
    assert.equal(doc.jobs.total, 2);
    assert.deepEqual(doc.jobs.byErrorCode, { "provider-rejected": 1 });
    assert.deepEqual(doc.durationMs.all, { count: 1, p50: 1_234, p95: 1_234, max: 1_234 });
  });

  test("the privacy audit accepts the statistics: an allowed collection with nothing suspicious in it", async () => {
    await seedJobs(SEEDS);
    const { computeDailyStats } = await store();
    const { purgeTransient } = await import("../../src/privacy/purge.js");
    await computeDailyStats(DAY1);
    await purgeTransient();
    const { auditPrivacy } = await import("../../src/privacy/audit.js");
    // Every seeded user "has an account": only the collections and values matter here.
    const report = await auditPrivacy({ getUsers: async (ids) => ({ users: ids.map((id) => ({ uid: (id as { uid: string }).uid })) as never, notFound: [] }) });
    assert.ok(report.scanned.documents > SEEDS.length, "the statistics documents were scanned");
    assert.equal(report.counts.unexpectedCollections, 0, report.examples.unexpectedCollections.join(", "));
    assert.equal(report.counts.suspiciousValues, 0, report.examples.suspiciousValues.join(", "));
  });
});
