/**
 * The admins' daily statistics, as pure functions over job status documents: jobs by status,
 * feature, provider and error code, p50/p95 durations and fallbacks for one UTC day. Firestore is
 * read and written by statsStore.ts; nothing here knows about it.
 *
 * Privacy: the input is a projection of the job document without uid, requestId, jobId or
 * timestamps (`StatsJob`), and the output holds only counts, durations and the fixed ids of
 * features, statuses, providers and error codes.
 */
import { JOB_STATUSES, type JobStatus } from "../domain/jobStatus.js";

/** The only job fields statistics read (statsStore.ts asks Firestore for no others). */
export interface StatsJob {
  feature: string;
  provider: string;
  status: string;
  errorCode?: string;
  durationMs?: number;
  fallbacks?: readonly { provider: string; code: string }[];
}

/** Jobs counted per status, with their total; statuses with no job are left out. */
export type StatusTally = { total: number } & Partial<Record<JobStatus, number>>;

/** Nearest-rank percentiles of a set of durations, in whole milliseconds; null when it is empty. */
export interface DurationSummary {
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface DailyJobStats {
  jobs: {
    total: number;
    /** Every status, zeros included, so the console always shows the same six fields. */
    byStatus: Record<JobStatus, number>;
    byFeature: Record<string, StatusTally>;
    byProvider: Record<string, StatusTally>;
    /** `error.code` of failed and expired jobs (the stable reason, e.g. `provider-unavailable`). */
    byErrorCode: Record<string, number>;
  };
  /** Succeeded jobs only: how long a user waited for a result (`durationMs`, start to end). */
  durationMs: { all: DurationSummary; byFeature: Record<string, DurationSummary> };
  /** Automatic fallback: jobs served after at least one provider was down, and the providers skipped. */
  fallbacks: { jobs: number; skipped: number; byProvider: Record<string, number>; byCode: Record<string, number> };
}

const DAY_MS = 86_400_000;
const DAY_ID = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day of an instant, as `YYYY-MM-DD` (the statistics document's id). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The instants a UTC day covers: [startMs, endMs). Throws on anything but a real `YYYY-MM-DD` date. */
export function dayRange(day: string): { startMs: number; endMs: number } {
  const m = DAY_ID.exec(day);
  const startMs = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || utcDay(startMs) !== day) throw new Error(`not a UTC day (YYYY-MM-DD): ${JSON.stringify(day)}`);
  return { startMs, endMs: startMs + DAY_MS };
}

/** The UTC day `days` days before the day of `ms` (1: yesterday). */
export function dayBefore(ms: number, days = 1): string {
  return utcDay(dayRange(utcDay(ms)).startMs - days * DAY_MS);
}

/**
 * Nearest-rank percentile (the smallest value with at least p% of the values at or below it) of
 * values sorted ascending; undefined for none. Chosen over interpolation: every figure shown is a
 * duration some job really took.
 */
export function percentile(sortedAscending: readonly number[], p: number): number | undefined {
  if (!sortedAscending.length) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sortedAscending.length));
  return sortedAscending[Math.min(rank, sortedAscending.length) - 1];
}

export function summariseDurations(values: readonly number[]): DurationSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => {
    const v = percentile(sorted, p);
    return v === undefined ? null : Math.round(v);
  };
  return { count: sorted.length, p50: at(50), p95: at(95), max: at(100) };
}

/**
 * Ids become map keys in the document. Ours are short lowercase ids; anything else (a document
 * written by hand, a future id) is counted under `other` rather than becoming a field name.
 */
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const keyOf = (id: unknown): string => (typeof id === "string" && SAFE_KEY.test(id) ? id : "other");

const isStatus = (s: string): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s);

function bump(map: Record<string, number>, key: string, by = 1) {
  map[key] = (map[key] ?? 0) + by;
}

function tally(map: Record<string, StatusTally>, key: string, status: JobStatus | "other") {
  const t = (map[key] ??= { total: 0 });
  t.total++;
  if (status !== "other") t[status] = (t[status] ?? 0) + 1;
}

/** The statistics of one day's jobs (every job created that day, in any order). */
export function dailyJobStats(jobs: Iterable<StatsJob>): DailyJobStats {
  const byStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  const stats: DailyJobStats = {
    jobs: { total: 0, byStatus, byFeature: {}, byProvider: {}, byErrorCode: {} },
    durationMs: { all: summariseDurations([]), byFeature: {} },
    fallbacks: { jobs: 0, skipped: 0, byProvider: {}, byCode: {} },
  };
  const durations: number[] = [];
  const durationsByFeature: Record<string, number[]> = {};
  for (const job of jobs) {
    const feature = keyOf(job.feature);
    const status = isStatus(job.status) ? job.status : "other";
    stats.jobs.total++;
    if (status !== "other") byStatus[status]++;
    tally(stats.jobs.byFeature, feature, status);
    tally(stats.jobs.byProvider, keyOf(job.provider), status);
    if (job.errorCode !== undefined) bump(stats.jobs.byErrorCode, keyOf(job.errorCode));
    if (status === "succeeded" && typeof job.durationMs === "number" && Number.isFinite(job.durationMs) && job.durationMs >= 0) {
      durations.push(job.durationMs);
      (durationsByFeature[feature] ??= []).push(job.durationMs);
    }
    if (job.fallbacks?.length) {
      stats.fallbacks.jobs++;
      for (const skipped of job.fallbacks) {
        stats.fallbacks.skipped++;
        bump(stats.fallbacks.byProvider, keyOf(skipped.provider));
        bump(stats.fallbacks.byCode, keyOf(skipped.code));
      }
    }
  }
  stats.durationMs.all = summariseDurations(durations);
  for (const [feature, values] of Object.entries(durationsByFeature)) stats.durationMs.byFeature[feature] = summariseDurations(values);
  return stats;
}
