/**
 * The backstop (ARCHITECTURE §5.7): deletes every transient object past its deadline, and expires
 * every job stuck past its deadline, deleting its objects. Idempotent; pages through any number of
 * objects with bounded concurrency, deleting one page while the next is being listed. Then it
 * deletes Firestore documents past their retention (privacy/retention.ts).
 */
import "../admin.js";
import type { File } from "@google-cloud/storage";
import { settings, type Settings } from "../config/params.js";
import { expireIfPastDeadline, heldResultsPastExpiry, jobsPastDeadline, markResultDeleted } from "../jobs/repository.js";
import type { JobDoc } from "../jobs/schema.js";
import { cancelAtProvider } from "../jobs/videoJob.js";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import { recordPurgeRun } from "../stats/statsStore.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { firestorePaths, TRANSIENT_ROOT, transientKindOf, transientPaths, transientTtlMs } from "../storage/paths.js";
import { purgePastRetention, purgeStaleDeletionMarkers } from "./retention.js";
import { deleteTransient, deleteTransientPrefixes, transientBucket } from "../storage/transientStore.js";

export interface PurgeOptions {
  now?: number;
  pageSize?: number;
  concurrency?: number;
}

export interface PurgeCounts {
  objectsScanned: number;
  objectsDeleted: number;
  jobsExpired: number;
  resultsExpired: number;
  /** Ended job status documents past JOB_RETENTION_DAYS (privacy/retention.ts). */
  jobsDeleted: number;
  /** Records of privacy requests past their 24 months. */
  requestRecordsDeleted: number;
  /** Deletion markers left in `quotas/{uid}` by a deletion that crashed (privacy/retention.ts). */
  deletionMarkersDeleted: number;
}

export async function purgeTransient(options: PurgeOptions = {}): Promise<PurgeCounts> {
  const started = Date.now();
  const now = options.now ?? started;
  const counts: PurgeCounts = {
    objectsScanned: 0,
    objectsDeleted: 0,
    jobsExpired: 0,
    resultsExpired: 0,
    jobsDeleted: 0,
    requestRecordsDeleted: 0,
    deletionMarkersDeleted: 0,
  };
  // Jobs first: expiring a job deletes its objects, which the object sweep then need not list.
  counts.jobsExpired = await expireStaleJobs(now, options);
  counts.resultsExpired = await expireHeldResults(now, options);
  await deleteExpiredObjects(now, options, counts);
  // Then what has outlived its retention (after the sweep above has ended every stale job).
  const retained = await purgePastRetention(now, options);
  counts.jobsDeleted = retained[firestorePaths.jobs] ?? 0;
  counts.requestRecordsDeleted = retained[firestorePaths.privacyRequests] ?? 0;
  counts.deletionMarkersDeleted = await purgeStaleDeletionMarkers(now, options);
  logs.purgeCompleted({ ...counts }, Date.now() - started);
  // The admins' daily statistics: one write per run. The purge has done its work by now, so a
  // failure here is logged rather than failing (and retrying) the run.
  await recordPurgeRun(now, counts).catch((error: unknown) => logs.purgeStatsNotRecorded(errorSummary(error).errorCode));
  return counts;
}

/**
 * When an object must be gone: its own `deleteAt` when that is earlier, but never later than
 * Storage's creation time (`timeCreated`, which no writer can set) plus the longest TTL of its kind
 * (from its path). So a forged or garbage `deleteAt` cannot keep an object; unknown age: now.
 */
export function objectDeadline(file: Pick<File, "name" | "metadata">, s: Settings = settings()): number {
  const created = Date.parse(String(file.metadata.timeCreated ?? ""));
  if (!Number.isFinite(created)) return 0; // unknown age: treat as expired
  const latest = created + transientTtlMs(transientKindOf(file.name), s);
  const deleteAt = Number(file.metadata.metadata?.deleteAt);
  return Number.isFinite(deleteAt) && deleteAt > 0 ? Math.min(deleteAt, latest) : latest;
}

async function deleteExpiredObjects(now: number, options: PurgeOptions, counts: PurgeCounts): Promise<void> {
  const s = settings();
  const concurrency = options.concurrency ?? 64;
  let pageToken: string | undefined;
  let pending: Promise<void> = Promise.resolve();
  do {
    const [files, next] = await transientBucket().getFiles({
      prefix: TRANSIENT_ROOT,
      maxResults: options.pageSize ?? 1000,
      autoPaginate: false,
      ...(pageToken && { pageToken }),
    });
    pageToken = (next as { pageToken?: string } | undefined)?.pageToken;
    counts.objectsScanned += files.length;
    const expired = files.filter((f) => objectDeadline(f, s) <= now);
    await pending; // at most one page of deletions in flight while the next page is listed
    pending = mapWithConcurrency(expired, concurrency, async (f) => {
      if (await deleteTransient(f.name)) counts.objectsDeleted++;
    }).then(() => undefined);
  } while (pageToken);
  await pending;
}

async function expireStaleJobs(now: number, options: PurgeOptions): Promise<number> {
  let expired = 0;
  const pageSize = options.pageSize ?? 500;
  for (const status of ["queued", "running"] as const) {
    let cursor: FirebaseFirestore.QueryDocumentSnapshot | undefined;
    do {
      const page = await jobsPastDeadline(status, now, pageSize, cursor);
      const results = await mapWithConcurrency(page.jobs, options.concurrency ?? 32, ({ jobId, job }) => expireJob(jobId, job, now));
      expired += results.filter(Boolean).length;
      cursor = page.next;
    } while (cursor);
  }
  return expired;
}

/**
 * Deletes a stale job's inputs, records it expired unless it ended meanwhile, and then, if it did
 * expire it, its result path (a job that succeeded meanwhile keeps its held result).
 */
async function expireJob(jobId: string, job: JobDoc, now: number): Promise<boolean> {
  await cancelAtProvider(job); // a video task nobody waits for any more: stop it where allowed
  const resultPrefix = transientPaths.result(job.uid, jobId);
  await deleteTransientPrefixes(
    transientPaths.jobPrefixes(job.uid, jobId).filter((p) => p !== resultPrefix),
    jobId,
  );
  const changed = await expireIfPastDeadline(jobId, now);
  if (changed) await deleteTransientPrefixes([resultPrefix], jobId);
  return changed;
}

/** Held results (video) past `resultExpiresAt`: the object goes, and the job records it. */
async function expireHeldResults(now: number, options: PurgeOptions): Promise<number> {
  const held = await heldResultsPastExpiry(now, options.pageSize ?? 500);
  await mapWithConcurrency(held, options.concurrency ?? 32, async ({ jobId, job }) => {
    await deleteTransientPrefixes([transientPaths.result(job.uid, jobId)], jobId);
    await markResultDeleted(jobId, now);
  });
  return held.length;
}
