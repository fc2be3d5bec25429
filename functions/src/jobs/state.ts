/**
 * The job state machine as pure functions: each returns the fields a transition writes.
 * queued → running → succeeded | failed | cancelled | expired; terminal states never change.
 */
import { Timestamp } from "firebase-admin/firestore";
import { jobRetentionMs } from "../config/params.js";
import type { Feature } from "../domain/features.js";
import { redactText } from "../logging/redact.js";
import type { JobDoc } from "./schema.js";
import { isTerminal, type JobStatus } from "../domain/jobStatus.js";

const NEXT: Record<JobStatus, readonly JobStatus[]> = {
  queued: ["running", "failed", "cancelled", "expired"],
  running: ["succeeded", "failed", "cancelled", "expired"],
  succeeded: [],
  failed: [],
  cancelled: [],
  expired: [],
};

export const canTransition = (from: JobStatus, to: JobStatus) => NEXT[from].includes(to);

export function queuedJob(input: {
  uid: string;
  requestId: string;
  feature: Feature;
  provider: string;
  model: string;
  now: number;
  deadlineMs: number;
}): JobDoc {
  const now = Timestamp.fromMillis(input.now);
  return {
    uid: input.uid,
    requestId: input.requestId,
    feature: input.feature,
    provider: input.provider,
    model: input.model,
    status: "queued",
    createdAt: now,
    updatedAt: now,
    deadlineAt: Timestamp.fromMillis(input.now + input.deadlineMs),
    inputDeleted: false,
    attempts: 0,
    // Set at creation, in the same write: the TTL policy's second line behind the purge.
    retainUntil: Timestamp.fromMillis(input.now + jobRetentionMs()),
  };
}

export const started = (now: number, attempts: number) =>
  ({ status: "running", startedAt: Timestamp.fromMillis(now), updatedAt: Timestamp.fromMillis(now), attempts }) satisfies Partial<JobDoc>;

/** Fields every terminal transition writes: the input is gone by the time this is recorded. */
function ended(status: JobStatus, now: number, startedAtMs?: number): Partial<JobDoc> {
  if (!isTerminal(status)) throw new Error(`${status} is not terminal`);
  const fields: Partial<JobDoc> = {
    status,
    finishedAt: Timestamp.fromMillis(now),
    updatedAt: Timestamp.fromMillis(now),
    inputDeleted: true,
  };
  if (startedAtMs !== undefined) fields.durationMs = Math.max(0, now - startedAtMs);
  return fields;
}

/** A video job once the provider has the task: the photo was only ever in memory, so it is gone. */
export const videoStarted = (now: number, providerTaskId: string) =>
  ({
    status: "running",
    startedAt: Timestamp.fromMillis(now),
    updatedAt: Timestamp.fromMillis(now),
    providerTaskId,
    inputDeleted: true,
    attempts: 0,
  }) satisfies Partial<JobDoc>;

/** A poll that found the task still running: which attempt it was, and progress if known. */
export const polled = (now: number, attempt: number, progress?: number) =>
  ({ updatedAt: Timestamp.fromMillis(now), attempts: attempt, ...(progress !== undefined && { progress }) }) satisfies Partial<JobDoc>;

/** A video held in transient Storage until the client acknowledges it or it expires. */
export const succeededHeld = (now: number, startedAtMs: number | undefined, resultExpiresAt: number) =>
  ({
    ...ended("succeeded", now, startedAtMs),
    progress: 100,
    resultDeleted: false,
    resultExpiresAt: Timestamp.fromMillis(resultExpiresAt),
  }) satisfies Partial<JobDoc>;

/** Image results are returned inline and never held, so there is nothing left to delete. */
export const succeededInline = (now: number, startedAtMs: number) =>
  ({ ...ended("succeeded", now, startedAtMs), progress: 100, resultDeleted: true }) satisfies Partial<JobDoc>;

/** The error is shown to the owner and kept with the job: its text goes through the redaction layer. */
export const failed = (now: number, error: { code: string; message: string }, startedAtMs?: number) =>
  ({ ...ended("failed", now, startedAtMs), error: { code: error.code, message: redactText(error.message) } }) satisfies Partial<JobDoc>;

export const cancelled = (now: number, startedAtMs?: number) => ended("cancelled", now, startedAtMs);

export const expired = (now: number, startedAtMs?: number) =>
  ({
    ...ended("expired", now, startedAtMs),
    error: { code: "deadline-exceeded", message: "The job did not finish before its deadline." },
  }) satisfies Partial<JobDoc>;

export const nowTimestamp = () => Timestamp.now();
