/**
 * Reads and writes the admins' daily statistics, `stats/{YYYY-MM-DD}` (one document per UTC day;
 * the arithmetic is in dailyStats.ts).
 *
 * - Job figures: the scheduled `dailyStats` function reads the day's job status documents (by
 *   `createdAt`, paged, only the fields statistics need) and writes them with one set. Nothing is
 *   written on the job path: creating or running a job costs what it did before.
 * - Purge figures: each purge run adds its counts with `FieldValue.increment`, one write per run.
 *
 * The two parts are separate top-level fields of the same document, each written without touching
 * the other, so recomputing a day keeps its purge counts and a purge run keeps the job figures.
 */
import "../admin.js";
import { FieldValue, getFirestore, Timestamp } from "firebase-admin/firestore";
import { pagesOfJobsCreatedBetween } from "../jobs/repository.js";
import * as logs from "../logging/logs.js";
import type { NonUserCollection } from "../storage/paths.js";
import { dailyJobStats, dayBefore, dayRange, utcDay, type DailyJobStats, type StatsJob } from "./dailyStats.js";

/** Declared in paths.ts as holding no user data (the privacy audit allows it; rules deny clients). */
export const STATS_COLLECTION = "stats" satisfies NonUserCollection;
export const statsPath = (day: string) => `${STATS_COLLECTION}/${day}`;

/** Bump when a field changes meaning, so readers of old documents can tell. */
export const STATS_SCHEMA_VERSION = 1;

/** The job figures of a day document (the purge's `purge` field is beside them). */
export interface DailyStatsFields extends DailyJobStats {
  day: string;
  schemaVersion: number;
  /** Jobs are counted with their status at this time. */
  computedAt: Timestamp;
}

/** The purge counts a day accumulates (privacy/purge.ts PurgeCounts without the per-run `objectsScanned`), plus runs. */
export const PURGE_FIELDS = ["objectsDeleted", "jobsExpired", "resultsExpired", "jobsDeleted", "requestRecordsDeleted", "deletionMarkersDeleted"] as const;
/** What the purge hands over; its PurgeCounts must have every field (the purge imports this module, not the other way). */
type PurgeRunCounts = Record<(typeof PURGE_FIELDS)[number], number>;

/** A day missed by a failed run is recomputed by a later one while it is this recent. */
export const BACKFILL_DAYS = 7;

/**
 * The only job fields read (a projection: Firestore never sends uid, requestId or the rest).
 * `createdAt` is there for the page cursor.
 */
const FIELDS_READ = ["createdAt", "feature", "provider", "status", "error.code", "durationMs", "fallbacks"];

export interface ComputeOptions {
  now?: number;
  /** Job documents per query page. */
  pageSize?: number;
}

/**
 * Computes the statistics of the jobs created on `day` (UTC) and writes them to `stats/{day}`,
 * replacing that day's job figures as a whole (idempotent; the purge counts stay). Cost: one read
 * per job of the day (at least one per page) and one write.
 */
export async function computeDailyStats(day: string, options: ComputeOptions = {}): Promise<{ day: string; jobs: number; pagesRead: number }> {
  const started = Date.now();
  const { jobs, pagesRead } = await readJobsCreatedOn(day, options.pageSize ?? 1000);
  const fields: DailyStatsFields = {
    day,
    schemaVersion: STATS_SCHEMA_VERSION,
    computedAt: Timestamp.fromMillis(options.now ?? started),
    ...dailyJobStats(jobs),
  };
  // mergeFields replaces each listed top-level field entirely (a count that went away goes) and
  // leaves `purge` alone; a plain set would wipe it, merge: true would keep stale map keys.
  await getFirestore()
    .doc(statsPath(day))
    .set(fields, { mergeFields: Object.keys(fields) });
  logs.dailyStatsComputed(day, jobs.length, pagesRead, Date.now() - started);
  return { day, jobs: jobs.length, pagesRead };
}

/**
 * What the scheduled function does: yesterday (UTC), which has just ended, and any of the
 * BACKFILL_DAYS before it that has no job figures yet (a failed run, a fresh deploy). Yesterday's
 * jobs have all ended by then: the run is after the longest job deadline plus a purge interval.
 */
export async function computeDueDailyStats(now = Date.now(), options: Omit<ComputeOptions, "now"> = {}): Promise<string[]> {
  const db = getFirestore();
  const earlier = Array.from({ length: BACKFILL_DAYS - 1 }, (_, i) => dayBefore(now, i + 2));
  const snaps = earlier.length ? await db.getAll(...earlier.map((day) => db.doc(statsPath(day)))) : [];
  const due = [dayBefore(now, 1), ...earlier.filter((_, i) => snaps[i]!.get("computedAt") === undefined)];
  for (const day of due) await computeDailyStats(day, { ...options, now });
  return due;
}

/** Adds one purge run's counts to the statistics of the (UTC) day it ran on: one write. */
export async function recordPurgeRun(now: number, counts: PurgeRunCounts): Promise<void> {
  const purge: Record<string, FieldValue | Timestamp> = { runs: FieldValue.increment(1), lastRunAt: Timestamp.fromMillis(now) };
  for (const field of PURGE_FIELDS) purge[field] = FieldValue.increment(counts[field]);
  const day = utcDay(now);
  await getFirestore().doc(statsPath(day)).set({ day, purge }, { merge: true });
}

/** The day's jobs, page by page in `createdAt` order, reduced to the fields statistics use. */
async function readJobsCreatedOn(day: string, pageSize: number): Promise<{ jobs: StatsJob[]; pagesRead: number }> {
  const { startMs, endMs } = dayRange(day);
  const jobs: StatsJob[] = [];
  let pagesRead = 0;
  for await (const page of pagesOfJobsCreatedBetween(startMs, endMs, FIELDS_READ, pageSize)) {
    pagesRead++;
    for (const data of page) jobs.push(statsJobOf(data));
  }
  return { jobs, pagesRead };
}

/** Picks the fields by name, whatever else the document holds. */
function statsJobOf(data: FirebaseFirestore.DocumentData): StatsJob {
  const fallbacks = Array.isArray(data.fallbacks)
    ? data.fallbacks.filter((f): f is { provider: string; code: string } => typeof f?.provider === "string" && typeof f?.code === "string")
    : undefined;
  return {
    feature: String(data.feature),
    provider: String(data.provider),
    status: String(data.status),
    ...(typeof data.error?.code === "string" && { errorCode: data.error.code }),
    ...(typeof data.durationMs === "number" && { durationMs: data.durationMs }),
    ...(fallbacks !== undefined && fallbacks.length > 0 && { fallbacks: fallbacks.map(({ provider, code }) => ({ provider, code })) }),
  };
}
