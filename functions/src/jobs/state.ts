/**
 * The job state machine as pure functions: each returns the fields a transition writes.
 * queued → running → succeeded | failed | cancelled | expired; terminal states never change.
 */
import { Timestamp } from "firebase-admin/firestore";
import type { Feature } from "../providers/types.js";
import { isTerminal, type JobDoc, type JobStatus } from "./schema.js";

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

/** Image results are returned inline and never held, so there is nothing left to delete. */
export const succeededInline = (now: number, startedAtMs: number) =>
  ({ ...ended("succeeded", now, startedAtMs), progress: 100, resultDeleted: true }) satisfies Partial<JobDoc>;

export const failed = (now: number, error: { code: string; message: string }, startedAtMs?: number) =>
  ({ ...ended("failed", now, startedAtMs), error }) satisfies Partial<JobDoc>;

export const cancelled = (now: number, startedAtMs?: number) => ended("cancelled", now, startedAtMs);

export const expired = (now: number, startedAtMs?: number) =>
  ({
    ...ended("expired", now, startedAtMs),
    error: { code: "deadline-exceeded", message: "The job did not finish before its deadline." },
  }) satisfies Partial<JobDoc>;

export const nowTimestamp = () => Timestamp.now();
