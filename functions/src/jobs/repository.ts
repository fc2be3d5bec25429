/**
 * Firestore access for job status documents. Only functions write jobs (admin SDK); every document
 * read back is parsed with the job schema, so a stray field cannot slip through unnoticed.
 */
import "../admin.js";
import { FieldValue, getFirestore, type Timestamp } from "firebase-admin/firestore";
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { firestorePaths } from "../storage/paths.js";
import type { QuotaLimits } from "../config/runtimeConfigSchema.js";
import { DELETION_MARKER_FIELD, deletionUnderway, holdsDeletionMarker } from "../quotas/deletionMarker.js";
import { admit, quotaDocSchema, refusalMessage, type QuotaDoc, type QuotaReason } from "../quotas/policy.js";
import { isOpaqueTaskId, jobDocSchema, type JobDoc } from "./schema.js";
import { isTerminal } from "../domain/jobStatus.js";

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_FAILED_PRECONDITION = 9;

const jobRef = (jobId: string) => getFirestore().doc(firestorePaths.job(jobId));

export function parseJob(data: unknown): JobDoc {
  return jobDocSchema.parse(data);
}

export async function getJob(jobId: string): Promise<JobDoc | undefined> {
  const snap = await jobRef(jobId).get();
  return snap.exists ? parseJob(snap.data()) : undefined;
}

/** Loads a job for its owner: `not-found` if absent, `permission-denied` if it is someone else's. */
export async function getOwnedJob(uid: string, jobId: string): Promise<JobDoc> {
  const job = await getJob(jobId);
  if (!job) throw new AppError("not-found", "jobId: no such job", "job-not-found");
  if (job.uid !== uid) throw new AppError("permission-denied", "jobId: this job belongs to another user", "job-not-owned");
  return job;
}

/**
 * Creates the job unless it exists, and counts it against the owner's quota in the same atomic
 * batch: one read (the quota document) and two writes. Concurrency is optimistic: the quota write
 * is conditional on the version read, and the job's create() on its absence, so of concurrent
 * duplicates exactly one wins and the others read the winner's state; a quota changed meanwhile
 * by another of the user's jobs means reading it again. While the user's data is being deleted the
 * document holds a marker (quotas/deletionMarker.ts) and the job is refused: the marker's write
 * changes the version (or creates the document), so a job admitted on an earlier read cannot commit.
 */
export async function createJobOnce(
  jobId: string,
  doc: JobDoc,
  limits: QuotaLimits,
): Promise<{ created: true; writeTime: Timestamp } | { created: false; existing: JobDoc }> {
  const db = getFirestore();
  const quotaRef = db.doc(firestorePaths.quotas(doc.uid));
  const request = { feature: doc.feature, jobId, deadlineAt: doc.deadlineAt.toMillis(), now: doc.createdAt.toMillis() };
  for (let attempt = 1; ; attempt++) {
    const snap = await quotaRef.get();
    if (deletionUnderway(snap.data(), Date.now())) {
      throw new AppError("unavailable", "Your data is being deleted; try again in a moment.", "deletion-in-progress");
    }
    const quota = snap.exists ? parseQuota(snap.data()) : undefined;
    let decision = admit(quota, request, limits);
    if (!decision.admitted && decision.reason === "check-active") {
      decision = admit(quota, request, limits, await endedJobs(decision.jobIds));
    }
    if (!decision.admitted) {
      if (decision.reason === "check-active") throw new Error("unreachable: active jobs were checked");
      // A retried request for a job that exists gets that job, not a quota error.
      const existing = await getJob(jobId);
      if (existing) return { created: false, existing };
      throw quotaExceeded(decision.reason, decision.retryAt, request.now);
    }
    const batch = db.batch().create(jobRef(jobId), guardFields(doc));
    // A stale marker (a deletion that crashed) goes with the job's write.
    const next = holdsDeletionMarker(snap.data()) ? { ...decision.next, [DELETION_MARKER_FIELD]: FieldValue.delete() } : decision.next;
    if (snap.exists) batch.update(quotaRef, next, { lastUpdateTime: snap.updateTime! });
    else batch.create(quotaRef, decision.next);
    try {
      const [jobWrite] = await batch.commit();
      return { created: true, writeTime: jobWrite!.writeTime };
    } catch (error) {
      const code = (error as { code?: number }).code;
      // NOT_FOUND: the document read was deleted meanwhile (a deletion lifting its marker).
      if (code !== GRPC_ALREADY_EXISTS && code !== GRPC_FAILED_PRECONDITION && code !== GRPC_NOT_FOUND) throw error;
      const existing = await getJob(jobId);
      if (existing) return { created: false, existing };
      if (attempt >= MAX_QUOTA_ATTEMPTS) throw error; // sustained contention on one user's quota
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

const MAX_QUOTA_ATTEMPTS = 8;

/** Of these jobs, the ones that can no longer be running (terminal or gone). */
async function endedJobs(jobIds: string[]): Promise<Set<string>> {
  const snaps = await getFirestore().getAll(...jobIds.map(jobRef));
  return new Set(snaps.filter((s) => !s.exists || isTerminal(parseJob(s.data()).status)).map((s) => s.id));
}

function parseQuota(data: unknown): QuotaDoc | undefined {
  // A counter document an admin mangled must not lock the user out: start it over.
  const parsed = quotaDocSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

function quotaExceeded(reason: QuotaReason, retryAt: number, now: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - now) / 1000));
  logs.quotaRefused(reason, retryAfterSeconds);
  return new AppError("resource-exhausted", refusalMessage(reason, retryAfterSeconds), `quota-${reason}`, {
    retryAfterSeconds,
    retryAt: new Date(retryAt).toISOString(),
  });
}

/**
 * Every write of job fields passes here first: a provider task id that is a URL or a path is
 * refused (a bug in an adapter, never stored), so no provider can put a location in a job (§4).
 */
function guardFields<T extends Partial<JobDoc>>(fields: T): T {
  if (fields.providerTaskId !== undefined && !isOpaqueTaskId(fields.providerTaskId)) {
    throw new Error("providerTaskId must be an opaque id, not a URL or path");
  }
  return fields;
}

/** Writes fields and returns the write time, used as the precondition of the next transition. */
export async function updateJob(jobId: string, fields: Partial<JobDoc>): Promise<Timestamp> {
  const result = await jobRef(jobId).update(guardFields(fields));
  return result.writeTime;
}

/**
 * Ends a job unless another invocation (cancel, purge) changed it since `lastUpdateTime`; in that
 * case the other one's terminal state stands and is returned. No read on the happy path.
 */
export async function finishJobIfUnchanged(
  jobId: string,
  fields: Partial<JobDoc>,
  lastUpdateTime: Timestamp,
): Promise<{ finished: true; writeTime: Timestamp } | { finished: false; current: JobDoc }> {
  try {
    const { writeTime } = await jobRef(jobId).update(guardFields(fields), { lastUpdateTime });
    return { finished: true, writeTime };
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code !== GRPC_FAILED_PRECONDITION && code !== GRPC_NOT_FOUND) throw error;
    const current = await getJob(jobId);
    // The user deleted their data while the job ran: the job is gone, and so is its answer.
    if (!current) throw new AppError("not-found", "jobId: the job was deleted with your data while it ran", "job-not-found");
    return { finished: false, current };
  }
}

/**
 * Applies `transition` to the current document in a transaction; `transition` returns the fields
 * to write, or undefined to leave the job as it is. Returns the resulting document.
 */
export async function transitionJob(
  jobId: string,
  transition: (job: JobDoc) => Partial<JobDoc> | undefined,
): Promise<JobDoc | undefined> {
  const db = getFirestore();
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(jobRef(jobId));
    if (!snap.exists) return undefined;
    const job = parseJob(snap.data());
    const fields = transition(job);
    if (!fields) return job;
    tx.update(jobRef(jobId), guardFields(fields));
    return { ...job, ...fields };
  });
}
