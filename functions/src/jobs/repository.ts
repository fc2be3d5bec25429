/**
 * The one home of job status documents (`jobs/{jobId}`): every read and write of them passes here
 * (test/docs/jobsRepository.test.ts checks it), and each write is named for what it does, with its
 * fields from the state machine (state.ts). Only functions write jobs (admin SDK); every document
 * read back is parsed with the job schema, so a stray field cannot slip through unnoticed. The
 * generic walkers over paths.ts's locations (deletion, export, retention, the audit) reach the
 * collection by its description, not by name.
 */
import "../admin.js";
import { FieldValue, getFirestore, Timestamp } from "firebase-admin/firestore";
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { firestorePaths } from "../storage/paths.js";
import type { QuotaLimits } from "../config/runtimeConfigSchema.js";
import { DELETION_MARKER_FIELD, deletionUnderway, holdsDeletionMarker } from "../quotas/deletionMarker.js";
import { admit, quotaDocSchema, refusalMessage, type QuotaDoc, type QuotaReason } from "../quotas/policy.js";
import { isOpaqueTaskId, jobDocSchema, type JobDoc } from "./schema.js";
import { isTerminal } from "../domain/jobStatus.js";
import * as state from "./state.js";

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_FAILED_PRECONDITION = 9;

const jobRef = (jobId: string) => getFirestore().doc(firestorePaths.job(jobId));
const jobsCollection = () => getFirestore().collection(firestorePaths.jobs);

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

/** Records a video job's start at its provider (state.videoStarted, with which provider serves). */
export async function recordVideoStarted(jobId: string, fields: Partial<JobDoc>): Promise<void> {
  if (fields.status !== "running") throw new Error("recordVideoStarted records a start");
  await jobRef(jobId).update(guardFields(fields));
}

/** Records which provider serves a job still waiting (after an automatic fallback). */
export async function recordServedBy(jobId: string, fields: Partial<JobDoc>): Promise<void> {
  if (fields.status !== undefined) throw new Error("recordServedBy changes no status");
  await jobRef(jobId).update(guardFields({ ...fields, updatedAt: state.nowTimestamp() }));
}

/** A job as read, with the time of that read: the precondition of a write that must not race. */
export interface ReadJob {
  job: JobDoc;
  readAt: Timestamp;
}

/** Reads a job with its update time (for `claimIfUnchanged` / `finishIfUnchanged`). */
export async function readJob(jobId: string): Promise<ReadJob | undefined> {
  const snap = await jobRef(jobId).get();
  return snap.exists ? { job: parseJob(snap.data()), readAt: snap.updateTime! } : undefined;
}

type IfUnchanged = { written: true; writeTime: Timestamp } | { written: false; current: JobDoc };

/** Writes unless another invocation changed the job since `lastUpdateTime`; then returns what it holds. */
async function writeIfUnchanged(jobId: string, fields: Partial<JobDoc>, lastUpdateTime: Timestamp): Promise<IfUnchanged> {
  try {
    const { writeTime } = await jobRef(jobId).update(guardFields(fields), { lastUpdateTime });
    return { written: true, writeTime };
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code !== GRPC_FAILED_PRECONDITION && code !== GRPC_NOT_FOUND) throw error;
    const current = await getJob(jobId);
    // The user deleted their data while the job ran: the job is gone, and so is its answer.
    if (!current) throw new AppError("not-found", "jobId: the job was deleted with your data while it ran", "job-not-found");
    return { written: false, current };
  }
}

/**
 * Ends a job (a terminal transition of state.ts) unless another invocation (cancel, purge) changed
 * it since `lastUpdateTime`; in that case the other one's state stands and is returned. No read on
 * the happy path.
 */
export async function finishIfUnchanged(
  jobId: string,
  fields: Partial<JobDoc>,
  lastUpdateTime: Timestamp,
): Promise<{ finished: true; writeTime: Timestamp } | { finished: false; current: JobDoc }> {
  if (fields.status === undefined || !isTerminal(fields.status)) throw new Error("finishIfUnchanged writes terminal states only");
  const outcome = await writeIfUnchanged(jobId, fields, lastUpdateTime);
  return outcome.written ? { finished: true, writeTime: outcome.writeTime } : { finished: false, current: outcome.current };
}

/**
 * Claims a step of a running job (a poll's attempt, a video task's start) unless another invocation
 * changed the job since `lastUpdateTime`: of duplicate deliveries exactly one claims, and a cancel
 * or expiry in between wins. The returned write time is the precondition of the step's outcome.
 */
export async function claimIfUnchanged(
  jobId: string,
  fields: Partial<JobDoc>,
  lastUpdateTime: Timestamp,
): Promise<{ claimed: true; writeTime: Timestamp } | { claimed: false; current: JobDoc }> {
  if (fields.status !== undefined && isTerminal(fields.status)) throw new Error("claimIfUnchanged never ends a job: use finishIfUnchanged");
  const outcome = await writeIfUnchanged(jobId, fields, lastUpdateTime);
  return outcome.written ? { claimed: true, writeTime: outcome.writeTime } : { claimed: false, current: outcome.current };
}

/** Records that a held result (video) is gone: acknowledged by its owner, or expired by the purge. */
export async function markResultDeleted(jobId: string, now: number): Promise<void> {
  await jobRef(jobId).update({ resultDeleted: true, updatedAt: Timestamp.fromMillis(now) } satisfies Partial<JobDoc>);
}

/**
 * Expires the job if it is still unfinished past its deadline (in a transaction, so a job that
 * ended meanwhile keeps its state). True if this call expired it.
 */
export async function expireIfPastDeadline(jobId: string, now: number): Promise<boolean> {
  let changed = false;
  await transitionJob(jobId, (current) => {
    changed = !isTerminal(current.status) && current.deadlineAt.toMillis() <= now;
    return changed ? state.expired(now, current.startedAt?.toMillis()) : undefined;
  });
  return changed;
}

/** One page of jobs still `status` past their deadline, oldest deadline first; pass the last id to page on. */
export async function jobsPastDeadline(
  status: "queued" | "running",
  now: number,
  pageSize: number,
  after?: FirebaseFirestore.QueryDocumentSnapshot,
): Promise<{ jobs: { jobId: string; job: JobDoc }[]; next?: FirebaseFirestore.QueryDocumentSnapshot }> {
  let query = jobsCollection().where("status", "==", status).where("deadlineAt", "<=", Timestamp.fromMillis(now)).orderBy("deadlineAt").limit(pageSize);
  if (after) query = query.startAfter(after);
  const snap = await query.get();
  return {
    jobs: snap.docs.map((doc) => ({ jobId: doc.id, job: parseJob(doc.data()) })),
    ...(snap.size === pageSize && { next: snap.docs[snap.size - 1] }),
  };
}

/** Succeeded jobs whose held result is past `resultExpiresAt` and not yet recorded deleted (at most `limit`). */
export async function heldResultsPastExpiry(now: number, limit: number): Promise<{ jobId: string; job: JobDoc }[]> {
  const snap = await jobsCollection()
    .where("status", "==", "succeeded")
    .where("resultDeleted", "==", false)
    .where("resultExpiresAt", "<=", Timestamp.fromMillis(now))
    .limit(limit)
    .get();
  return snap.docs.map((doc) => ({ jobId: doc.id, job: parseJob(doc.data()) }));
}

/**
 * The jobs created in [startMs, endMs), page by page in `createdAt` order, with only `fields` read
 * (statistics): raw data, since a partial document is not a job. A snapshot cursor orders by
 * createdAt then document name, so jobs created in the same millisecond are neither skipped nor
 * read twice across a page boundary.
 */
export async function* pagesOfJobsCreatedBetween(
  startMs: number,
  endMs: number,
  fields: readonly string[],
  pageSize: number,
): AsyncGenerator<FirebaseFirestore.DocumentData[]> {
  const base = jobsCollection()
    .where("createdAt", ">=", Timestamp.fromMillis(startMs))
    .where("createdAt", "<", Timestamp.fromMillis(endMs))
    .orderBy("createdAt")
    .select(...fields)
    .limit(pageSize);
  let cursor: FirebaseFirestore.QueryDocumentSnapshot | undefined;
  do {
    const snap = await (cursor ? base.startAfter(cursor) : base).get();
    yield snap.docs.map((doc) => doc.data());
    cursor = snap.size === pageSize ? snap.docs[snap.size - 1] : undefined;
  } while (cursor);
}

/**
 * Applies `transition` to the current document in a transaction; `transition` returns the fields
 * to write, or undefined to leave the job as it is. Returns the resulting document.
 */
export async function transitionJob(jobId: string, transition: (job: JobDoc) => Partial<JobDoc> | undefined): Promise<JobDoc | undefined> {
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
