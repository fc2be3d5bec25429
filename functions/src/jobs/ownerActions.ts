/**
 * What a job's owner can do after createJob: read the result while it is held, acknowledge it
 * (deleting it at once), or cancel. Another user's jobId is refused before anything is touched.
 */
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { transientPaths } from "../storage/paths.js";
import { settings } from "../config/params.js";
import { deleteTransientPrefixes, signedReadUrl, transientBucket } from "../storage/transientStore.js";
import { cancelAtProvider } from "./videoJob.js";
import { getOwnedJob, markResultDeleted, transitionJob } from "./repository.js";
import { receiptOf } from "./receipt.js";
import { jobRefRequestSchema } from "./schema.js";
import { isTerminal, type JobStatus } from "../domain/jobStatus.js";
import { parseRequest } from "../util/zodMessage.js";
import * as state from "./state.js";

export async function getJobResult(uid: string, jobId: string) {
  const job = await getOwnedJob(uid, jobId);
  if (job.status !== "succeeded") {
    return {
      jobId,
      status: job.status,
      ...(job.progress !== undefined && { progress: job.progress }),
      ...(job.error && { error: job.error }),
      receipt: receiptOf(job),
    };
  }
  // Image results are returned inline by createJob and never held; a video is held until acknowledged.
  const path = transientPaths.result(uid, jobId);
  const held = job.resultDeleted === false && (job.resultExpiresAt?.toMillis() ?? 0) > Date.now() && (await transientBucket().file(path).exists())[0];
  if (!held) {
    throw new AppError("not-found", "jobId: the result is no longer held (image results are returned inline by createJob)", "result-gone");
  }
  const { url, expiresAt } = await signedReadUrl(path, settings().resultUrlMinutes);
  const result = { mimeType: "video/mp4", url, urlExpiresAt: new Date(expiresAt).toISOString(), deleteAt: job.resultExpiresAt!.toDate().toISOString() };
  return { jobId, status: job.status, result, receipt: receiptOf(job) };
}

export async function ackJobResult(uid: string, jobId: string) {
  const job = await getOwnedJob(uid, jobId);
  // An unfinished job holds no result yet; what is under its result path is a poll still storing
  // the video, which records it held once complete. Deleting it then would leave
  // `resultDeleted: false` with no result (a race the tests replay).
  if (!isTerminal(job.status)) return { jobId, deleted: true as const };
  await deleteTransientPrefixes([transientPaths.result(uid, jobId)], jobId);
  if (job.resultDeleted === false) await markResultDeleted(jobId, Date.now());
  return { jobId, deleted: true as const };
}

export async function cancelJob(uid: string, jobId: string): Promise<{ jobId: string; status: JobStatus }> {
  const owned = await getOwnedJob(uid, jobId);
  if (!isTerminal(owned.status)) await cancelAtProvider(owned); // stop paid work (video), where allowed
  // Inputs go first, so a job is never recorded as cancelled with inputDeleted while they exist.
  const resultPrefix = transientPaths.result(uid, jobId);
  let removed = await deleteTransientPrefixes(
    transientPaths.jobPrefixes(uid, jobId).filter((p) => p !== resultPrefix),
    jobId,
  );
  const now = Date.now();
  let endedHere = false;
  const job = await transitionJob(jobId, (current) => {
    endedHere = !isTerminal(current.status);
    return endedHere ? state.cancelled(now, current.startedAt?.toMillis()) : undefined;
  });
  if (!job) throw new AppError("not-found", "jobId: no such job", "job-not-found");
  // The result path only once this call has ended the job: a job that ended otherwise (a video
  // that just succeeded, even while we were here) keeps its state and its held result.
  if (endedHere) removed += await deleteTransientPrefixes([resultPrefix], jobId);
  if (removed) logs.inputDeleted(jobId, removed);
  if (endedHere) logs.jobCancelled(jobId);
  return { jobId, status: job.status };
}

export function parseJobRef(data: unknown): string {
  return parseRequest(jobRefRequestSchema, data).jobId;
}
