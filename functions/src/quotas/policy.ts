/**
 * Per-user quotas as pure functions over the `quotas/{uid}` document: fixed hour and day windows
 * per feature (a window starts with its first job), and the set of the user's jobs that may still
 * be running. No I/O here; quotas/admission.ts applies the decision atomically with the job.
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { QuotaLimits } from "../config/runtimeConfigSchema.js";
import { FEATURES, type Feature } from "../domain/features.js";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** A user at the concurrency cap is told to retry within this, or when a job's deadline passes. */
const CONCURRENT_RETRY_MS = 60_000;

const timestamp = z.custom<Timestamp>((v) => v instanceof Timestamp, "a Firestore Timestamp");

const windowSchema = z.strictObject({
  hourStartedAt: timestamp,
  hourCount: z.number().int().min(0),
  dayStartedAt: timestamp,
  dayCount: z.number().int().min(0),
});

/** `quotas/{uid}`: counters only, no content. Strict, like every document functions write. */
export const quotaDocSchema = z.strictObject({
  features: z.partialRecord(z.enum(FEATURES), windowSchema),
  /** Jobs that may still be queued or running, by jobId, with their deadline. */
  active: z.record(z.string(), timestamp),
  updatedAt: timestamp,
});

export type QuotaDoc = z.infer<typeof quotaDocSchema>;
export type QuotaWindow = z.infer<typeof windowSchema>;

export type QuotaReason = "hourly" | "daily" | "concurrent";

export type AdmitDecision =
  | { admitted: true; next: QuotaDoc }
  | { admitted: false; reason: QuotaReason; retryAt: number }
  /** At the concurrency cap only on paper: these jobs must be checked before deciding. */
  | { admitted: false; reason: "check-active"; jobIds: string[] };

export interface AdmitRequest {
  feature: Feature;
  jobId: string;
  deadlineAt: number;
  now: number;
}

/**
 * Decides whether a new job fits. `endedJobIds` lists jobs known to be terminal (or gone): the
 * document does not learn when a job ends (that would cost a write per job), so entries are only
 * checked when they would push the user over the cap.
 */
export function admit(doc: QuotaDoc | undefined, request: AdmitRequest, limits: QuotaLimits, endedJobIds?: ReadonlySet<string>): AdmitDecision {
  const { feature, jobId, deadlineAt, now } = request;
  const window = currentWindow(doc?.features[feature], now);
  const featureLimits = limits.perFeature[feature];
  if (featureLimits && window.hourCount >= featureLimits.perHour) {
    return { admitted: false, reason: "hourly", retryAt: window.hourStartedAt.toMillis() + HOUR_MS };
  }
  if (featureLimits && window.dayCount >= featureLimits.perDay) {
    return { admitted: false, reason: "daily", retryAt: window.dayStartedAt.toMillis() + DAY_MS };
  }

  const active = Object.entries(doc?.active ?? {}).filter(([id, deadline]) => deadline.toMillis() > now && !endedJobIds?.has(id));
  if (active.length >= limits.maxConcurrentJobs) {
    if (!endedJobIds) return { admitted: false, reason: "check-active", jobIds: active.map(([id]) => id) };
    const earliestDeadline = Math.min(...active.map(([, deadline]) => deadline.toMillis()));
    return { admitted: false, reason: "concurrent", retryAt: Math.min(earliestDeadline, now + CONCURRENT_RETRY_MS) };
  }

  const next: QuotaDoc = {
    features: {
      ...doc?.features,
      [feature]: { ...window, hourCount: window.hourCount + 1, dayCount: window.dayCount + 1 },
    },
    active: { ...Object.fromEntries(active), [jobId]: Timestamp.fromMillis(deadlineAt) },
    updatedAt: Timestamp.fromMillis(now),
  };
  return { admitted: true, next };
}

/** The feature's windows as of `now`: a window older than its length starts over. */
function currentWindow(window: QuotaWindow | undefined, now: number): QuotaWindow {
  const start = Timestamp.fromMillis(now);
  if (!window) return { hourStartedAt: start, hourCount: 0, dayStartedAt: start, dayCount: 0 };
  const hourOver = now - window.hourStartedAt.toMillis() >= HOUR_MS;
  const dayOver = now - window.dayStartedAt.toMillis() >= DAY_MS;
  return {
    hourStartedAt: hourOver ? start : window.hourStartedAt,
    hourCount: hourOver ? 0 : window.hourCount,
    dayStartedAt: dayOver ? start : window.dayStartedAt,
    dayCount: dayOver ? 0 : window.dayCount,
  };
}

const REFUSAL_TEXT: Record<QuotaReason, string> = {
  hourly: "You have reached the hourly limit for this feature",
  daily: "You have reached the daily limit for this feature",
  concurrent: "You already have the maximum number of jobs running",
};

/** The user-facing message; the retry time goes in the error's details as well. */
export function refusalMessage(reason: QuotaReason, retryAfterSeconds: number): string {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  const wait = retryAfterSeconds < 60 ? `${retryAfterSeconds} seconds` : minutes === 1 ? "1 minute" : `${minutes} minutes`;
  return `${REFUSAL_TEXT[reason]}; try again in ${wait}`;
}
