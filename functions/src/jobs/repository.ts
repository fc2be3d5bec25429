/**
 * Firestore access for job status documents. Only functions write jobs (admin SDK); every document
 * read back is parsed with the job schema, so a stray field cannot slip through unnoticed.
 */
import "../admin.js";
import { getFirestore, type Timestamp } from "firebase-admin/firestore";
import { AppError } from "../errors.js";
import { firestorePaths } from "../privacy/paths.js";
import { jobDocSchema, type JobDoc } from "./schema.js";

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
 * Creates the job unless it exists. A single create() with an exists=false precondition makes
 * concurrent duplicates safe: exactly one caller wins, the others read the winner's state.
 */
export async function createJobOnce(jobId: string, doc: JobDoc): Promise<{ created: true } | { created: false; existing: JobDoc }> {
  try {
    await jobRef(jobId).create(doc);
    return { created: true };
  } catch (error) {
    if ((error as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw error;
    const existing = await getJob(jobId);
    if (!existing) throw error;
    return { created: false, existing };
  }
}

/** Writes fields and returns the write time, used as the precondition of the next transition. */
export async function updateJob(jobId: string, fields: Partial<JobDoc>): Promise<Timestamp> {
  const result = await jobRef(jobId).update(fields);
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
    const { writeTime } = await jobRef(jobId).update(fields, { lastUpdateTime });
    return { finished: true, writeTime };
  } catch (error) {
    if ((error as { code?: number }).code !== GRPC_FAILED_PRECONDITION) throw error;
    const current = await getJob(jobId);
    if (!current) throw error;
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
    tx.update(jobRef(jobId), fields);
    return { ...job, ...fields };
  });
}
