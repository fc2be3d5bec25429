/**
 * Video jobs (ARCHITECTURE §3, shared/providers/VIDEO.md): createJob starts the provider's task with
 * the photo from memory and returns at once; `pollJob` (Cloud Tasks) makes one status call per task
 * and enqueues the next with backoff; on success the video is streamed into
 * `transient/results/{uid}/{jobId}` and held until acknowledged or `resultExpiresAt`.
 */
import { settings, type Settings } from "../config/params.js";
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import { transientPaths } from "../storage/paths.js";
import {
  adoptTransient,
  deleteTransientOrLeaveToPurge,
  deleteTransientPrefixes,
  readTransient,
  saveTransient,
  saveTransientStream,
  TransientLimitError,
  transientBucket,
} from "../storage/transientStore.js";
import { loadVideoProvider } from "../providers/registry.js";
import {
  ProviderFailure,
  type InputImage,
  type ProviderError,
  type VideoOperation,
  type VideoPollingPolicy,
  type VideoProvider,
  type VideoRequest,
  type VideoStatus,
} from "../providers/types.js";
import type { ProviderId } from "../providers/catalog.js";
import { enqueuePoll, type PollTask } from "./pollQueue.js";
import { jobIdFor } from "./jobId.js";
import { acquireVideoSlot, releaseVideoSlot, videoLimitsOf } from "./providerLimits.js";
import { claimIfUnchanged, finishIfUnchanged, readJob, recordServedBy, recordVideoStarted } from "./repository.js";
import { providerErrorOf, toAppError } from "./runProvider.js";
import type { JobDoc } from "./schema.js";
import { isTerminal, type JobStatus } from "../domain/jobStatus.js";
import * as state from "./state.js";

const DEFAULT_POLLING: VideoPollingPolicy = { firstDelayMs: 15_000, intervalsMs: [10_000, 15_000, 20_000, 30_000], deadlineMs: 15 * 60_000 };
const START_TIMEOUT_MS = 120_000;
const STATUS_TIMEOUT_MS = 60_000;

/**
 * The provider's polling policy. `PROVIDER_POLL_INTERVAL_MS` shortens every delay (tests and the
 * local stack's fakes); `VIDEO_JOB_DEADLINE_MINUTES` bounds the deadline.
 */
export function videoPolling(provider: VideoProvider, s: Settings = settings(), env = process.env): VideoPollingPolicy {
  const policy = { ...DEFAULT_POLLING, ...provider.polling };
  const interval = Number(env.PROVIDER_POLL_INTERVAL_MS);
  if (interval > 0) Object.assign(policy, { firstDelayMs: interval, intervalsMs: [interval] });
  return { ...policy, deadlineMs: Math.min(policy.deadlineMs, s.videoJobDeadlineMinutes * 60_000) };
}

export const videoDeadlineMs = (provider: VideoProvider, s: Settings) => videoPolling(provider, s).deadlineMs;

/** The delay before poll `attempt` (1-based): the first delay, then the intervals, the last repeating, ±20 % jitter. */
export function pollDelayMs(policy: VideoPollingPolicy, attempt: number, random = Math.random): number {
  const base = attempt <= 1 ? policy.firstDelayMs : policy.intervalsMs[Math.min(attempt - 2, policy.intervalsMs.length - 1)]!;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Starts the provider's task and schedules the first poll, or, when the provider is at its caps
 * (jobs/providerLimits.ts), stages the request in `transient/inputs/{uid}/{jobId}` and schedules
 * a start attempt: the job stays `queued`. Returns the job's new status.
 */
export async function startVideoJob(
  uid: string,
  jobId: string,
  provider: VideoProvider,
  request: VideoRequest,
  startedAt: number,
  /** Recorded with the start, e.g. which provider serves after an automatic fallback. */
  extraFields: Partial<JobDoc> = {},
): Promise<JobStatus> {
  const limits = await videoLimitsOf(provider.id);
  if (limits) {
    // The job's deadline was set moments ago from the same policy; the lease lapses with it.
    const deadline = startedAt + videoDeadlineMs(provider, settings());
    const slot = await acquireVideoSlot(provider.id, limits, jobId, deadline);
    if (!slot.granted) {
      await waitForSlot(uid, jobId, provider.id, request, deadline, slot.retryAfterMs, extraFields);
      return "queued";
    }
  }
  let op: VideoOperation;
  try {
    op = await startAtProvider(uid, jobId, provider, request);
  } catch (error) {
    await releaseVideoSlot(provider.id, jobId);
    throw error;
  }
  try {
    await recordVideoStarted(jobId, { ...state.videoStarted(startedAt, op.id), ...extraFields });
    logs.inputDeleted(jobId, 0);
    await enqueuePoll({ jobId, attempt: 1 }, pollDelayMs(videoPolling(provider), 1));
  } catch (error) {
    // Nobody would poll this task: stop the paid work before the job is recorded as failed.
    await provider.cancel?.(op).catch(() => undefined);
    await releaseVideoSlot(provider.id, jobId);
    throw error;
  }
  return "running";
}

async function startAtProvider(uid: string, jobId: string, provider: VideoProvider, request: VideoRequest): Promise<VideoOperation> {
  try {
    return await provider.start({ ...request, outputGcsPrefix: resultPrefixUri(uid, jobId) }, AbortSignal.timeout(START_TIMEOUT_MS));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw toAppError(providerErrorOf(provider, error));
  }
}

/**
 * The request must outlive this invocation until a slot frees: the photo (and prompt) go to the
 * job's transient input, deleted when the task starts, when the job ends otherwise (cancel, purge,
 * deletion) or at the deadline by the object sweep.
 */
async function waitForSlot(
  uid: string,
  jobId: string,
  providerId: string,
  request: VideoRequest,
  deadline: number,
  retryAfterMs: number,
  extraFields: Partial<JobDoc>,
) {
  const path = transientPaths.input(uid, jobId);
  await saveTransient(path, encodeStagedRequest(request), STAGED_TYPE, { uid, jobId, kind: "inputs", deleteAt: String(deadline) });
  try {
    if (Object.keys(extraFields).length) await recordServedBy(jobId, extraFields);
    await enqueuePoll({ jobId, attempt: 1, start: true }, retryAfterMs);
  } catch (error) {
    await deleteTransientPrefixes([path], jobId); // the job is about to be recorded failed
    throw error;
  }
  logs.videoJobWaiting(jobId, providerId, retryAfterMs);
}

const STAGED_TYPE = "application/x-photo-fixer-staged-request";

/** A 4-byte header length, the JSON header (image type and size, model, prompt, options), the image. */
function encodeStagedRequest(request: VideoRequest): Buffer {
  const { image, model, prompt, options } = request;
  const header = Buffer.from(JSON.stringify({ mime: image.mime, width: image.width, height: image.height, model, prompt, options }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, image.bytes]);
}

function decodeStagedRequest(bytes: Buffer, jobId: string): VideoRequest {
  const headerEnd = 4 + bytes.readUInt32BE(0);
  const header = JSON.parse(bytes.subarray(4, headerEnd).toString("utf8")) as Pick<InputImage, "mime" | "width" | "height"> &
    Omit<VideoRequest, "image" | "jobId">;
  const { mime, width, height, ...rest } = header;
  return { ...rest, jobId, image: { mime, width, height, bytes: bytes.subarray(headerEnd) } };
}

/**
 * A start attempt of a job waiting for a slot (a `pollJob` task with `start`). Claims its attempt
 * like a poll, so duplicate deliveries start nothing twice; past the deadline the job expires
 * with its staged input deleted (as the purge would).
 */
async function startWaitingVideoJob(task: PollTask, now: number): Promise<void> {
  const read = await readJob(task.jobId);
  if (!read) return;
  const { job, readAt } = read;
  const inputPath = transientPaths.input(job.uid, task.jobId);
  if (job.feature !== "video" || job.status !== "queued") {
    // Ended while it waited (cancel and the purge delete the input too; this is the backstop).
    if (isTerminal(job.status) && !job.providerTaskId) await deleteTransientPrefixes([inputPath], task.jobId);
    return;
  }
  if (job.attempts >= task.attempt) return; // a duplicate or stale delivery
  if (now >= job.deadlineAt.toMillis()) {
    await deleteTransientPrefixes([inputPath], task.jobId);
    const ended = await finishIfUnchanged(task.jobId, state.expired(now), readAt);
    if (ended.finished) logs.jobFailed(task.jobId, "deadline-exceeded", "provider-deadline");
    return;
  }
  const claimed = await claimIfUnchanged(task.jobId, state.polled(now, task.attempt), readAt);
  if (!claimed.claimed) return;
  const provider = await loadVideoProvider(job.provider as ProviderId);
  const limits = await videoLimitsOf(provider.id);
  if (limits) {
    const slot = await acquireVideoSlot(provider.id, limits, task.jobId, job.deadlineAt.toMillis(), now);
    if (!slot.granted) return enqueuePoll({ jobId: task.jobId, attempt: task.attempt + 1, start: true }, slot.retryAfterMs);
  }
  let op: VideoOperation | undefined;
  try {
    const staged = await readTransient(inputPath);
    if (!staged) throw new AppError("internal", "The job's photo was no longer held when its turn came.", "internal");
    op = await startAtProvider(job.uid, task.jobId, provider, { ...decodeStagedRequest(staged.bytes, task.jobId), model: job.model });
  } catch (error) {
    await releaseVideoSlot(provider.id, task.jobId);
    await deleteTransientPrefixes([inputPath], task.jobId);
    const failure = error instanceof AppError ? error : new AppError("internal", "The job failed because of an internal error.");
    const ended = await finishIfUnchanged(task.jobId, state.failed(Date.now(), { code: failure.reason, message: failure.message }), claimed.writeTime);
    if (ended.finished) logs.jobFailed(task.jobId, failure.code, failure.reason);
    return;
  }
  // The provider has the photo: our copy goes before the job says so.
  const removed = await deleteTransientPrefixes([inputPath], task.jobId);
  const started = await claimIfUnchanged(task.jobId, state.videoStarted(Date.now(), op.id), claimed.writeTime);
  if (!started.claimed) {
    // Cancelled or expired while it started: stop the task and give the slot back.
    await provider.cancel?.(op).catch(() => undefined);
    await releaseVideoSlot(provider.id, task.jobId);
    return;
  }
  logs.inputDeleted(task.jobId, removed);
  await enqueuePoll({ jobId: task.jobId, attempt: 1 }, pollDelayMs(videoPolling(provider), 1));
}

/**
 * One poll (the body of the `pollJob` task). Stale and duplicate deliveries are dropped: a poll
 * claims its attempt with a precondition on the document it read, so only one delivery acts.
 */
export async function pollVideoJob(task: PollTask, now = Date.now()): Promise<void> {
  if (task.start) return startWaitingVideoJob(task, now);
  const read = await readJob(task.jobId);
  if (!read) return;
  const { job, readAt } = read;
  if (job.feature !== "video" || isTerminal(job.status) || job.attempts >= task.attempt || !job.providerTaskId) return;
  const provider = await loadVideoProvider(job.provider as ProviderId);
  const op: VideoOperation = { id: job.providerTaskId, model: job.model, outputGcsPrefix: resultPrefixUri(job.uid, task.jobId) };

  if (now >= job.deadlineAt.toMillis()) {
    await provider.cancel?.(op).catch(() => undefined); // stop paid work we no longer wait for
    await releaseVideoSlot(provider.id, task.jobId);
    await deleteTransientPrefixes(transientPaths.jobPrefixes(job.uid, task.jobId), task.jobId);
    const ended = await finishIfUnchanged(task.jobId, state.expired(now, job.startedAt?.toMillis()), readAt);
    if (ended.finished) logs.jobFailed(task.jobId, "deadline-exceeded", "provider-deadline");
    return;
  }

  let status: VideoStatus;
  try {
    status = await provider.status(op, AbortSignal.timeout(STATUS_TIMEOUT_MS));
  } catch (error) {
    const failure = providerErrorOf(provider, error);
    // A failed status call is not a failed job (VIDEO.md §3): back off and ask again.
    if (failure.kind === "retryable") return nextPoll(task, provider, readAt, now, undefined, failure.retryAfterMs);
    return endFailed(task.jobId, job, failure, readAt, now);
  }

  switch (status.state) {
    case "queued":
    case "running":
      return nextPoll(task, provider, readAt, now, status.state === "running" ? status.progress : undefined);
    case "failed":
    case "cancelled":
      return endFailed(task.jobId, job, status.error, readAt, now, status.state);
    case "succeeded":
      return storeResult(task, job, provider, op, status, readAt, now);
  }
}

async function nextPoll(task: PollTask, provider: VideoProvider, readAt: FirebaseFirestore.Timestamp, now: number, progress?: number, retryAfterMs?: number) {
  const claimed = await claimIfUnchanged(task.jobId, state.polled(now, task.attempt, progress), readAt);
  if (!claimed.claimed) return; // another delivery of this poll, or a cancel, got there first
  const delay = Math.max(pollDelayMs(videoPolling(provider), task.attempt + 1), retryAfterMs ?? 0);
  await enqueuePoll({ jobId: task.jobId, attempt: task.attempt + 1 }, delay);
}

async function endFailed(
  jobId: string,
  job: JobDoc,
  error: ProviderError,
  readAt: FirebaseFirestore.Timestamp,
  now: number,
  as: "failed" | "cancelled" = "failed",
) {
  const appError = toAppError(error);
  const fields =
    as === "cancelled"
      ? state.cancelled(now, job.startedAt?.toMillis())
      : state.failed(now, { code: appError.reason, message: appError.message }, job.startedAt?.toMillis());
  const ended = await finishIfUnchanged(jobId, fields, readAt);
  if (ended.finished) {
    logs.jobFailed(jobId, appError.code, appError.reason);
    // What a provider wrote into our bucket for this job (Veo's storageUri, the local clip) and any
    // staged input go with it. Only once it has ended here: another end (cancel, expiry, a
    // duplicate poll's success) owns its own objects. A failed delete is left to the purge.
    await deleteTransientPrefixes(transientPaths.jobPrefixes(job.uid, jobId), jobId).catch(() => undefined); // logged there
  }
  await releaseVideoSlot(job.provider, jobId); // the provider's task has ended either way
}

/** Streams (or adopts) the video into the transient area, checks it, then records the job succeeded. */
async function storeResult(
  task: PollTask,
  job: JobDoc,
  provider: VideoProvider,
  op: VideoOperation,
  status: Extract<VideoStatus, { state: "succeeded" }>,
  readAt: FirebaseFirestore.Timestamp,
  now: number,
) {
  // Claim first, so a duplicate delivery never downloads the same video twice.
  const claimed = await claimIfUnchanged(task.jobId, state.polled(now, task.attempt, 100), readAt);
  if (!claimed.claimed) return;
  await releaseVideoSlot(provider.id, task.jobId); // the task is done at the provider; only the download remains
  const claimedAt = claimed.writeTime;
  const s = settings();
  const path = transientPaths.result(job.uid, task.jobId);
  const expiresAt = Date.now() + s.resultTtlMinutes * 60_000;
  const meta = { uid: job.uid, jobId: task.jobId, kind: "results" as const, deleteAt: String(expiresAt) };
  let providerCopy: string | undefined; // a result the provider wrote into our prefix itself
  try {
    if ("gcsUri" in status.result) {
      providerCopy = gcsObjectInOurPrefix(status.result.gcsUri, path);
      await adoptTransient(providerCopy, path, "video/mp4", meta);
    } else {
      const opened = await provider.openResult(status.result, AbortSignal.timeout(5 * 60_000));
      if (opened.contentLength !== undefined && opened.contentLength > s.maxVideoBytes) throw new TransientLimitError("too-large");
      await saveTransientStream(path, opened.body, "video/mp4", meta, { maxBytes: s.maxVideoBytes, checkHead: assertVideoHead });
    }
  } catch (error) {
    const failure = resultFailure(provider, error);
    // Our own (maybe partial) copy goes on every path, even if the job ended elsewhere meanwhile. A
    // failed cleanup (Storage still down) must cost neither the retry nor the ending: the purge
    // is the backstop.
    await deleteTransientOrLeaveToPurge(path, task.jobId);
    // Retryable: the provider's copy in our prefix stays for the next poll to store.
    if (failure.kind === "retryable") return nextPoll(task, provider, claimedAt, Date.now());
    return endFailed(task.jobId, job, failure, claimedAt, Date.now());
  }
  const ended = await finishIfUnchanged(task.jobId, state.succeededHeld(Date.now(), job.startedAt?.toMillis(), expiresAt), claimedAt);
  if (!ended.finished) {
    // Cancelled while we downloaded: nothing of it may stay.
    await deleteTransientPrefixes(transientPaths.jobPrefixes(job.uid, task.jobId), task.jobId);
    return;
  }
  logs.jobSucceeded(task.jobId, Date.now() - (job.startedAt?.toMillis() ?? now));
  // Ours is recorded: the provider's object in our prefix goes (if this fails, ack and the purge
  // delete the whole result prefix, this object included).
  if (providerCopy) await deleteTransientOrLeaveToPurge(providerCopy, task.jobId);
  // We hold our copy now: the provider's copy of the face need not live on (where the API allows).
  await provider.deleteTask?.(op).catch(() => undefined);
}

/** `gs://bucket/transient/results/{uid}/{jobId}/`: where a provider may write this job's result itself. */
const resultPrefixUri = (uid: string, jobId: string) => `gs://${transientBucket().name}/${transientPaths.result(uid, jobId)}/`;

/** A Veo-style result written by the provider must be inside this job's own result prefix. */
function gcsObjectInOurPrefix(gcsUri: string, resultPath: string): string {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(gcsUri);
  if (!match || match[1] !== transientBucket().name || !match[2]!.startsWith(`${resultPath}/`)) {
    throw new ProviderFailure({ kind: "permanent", message: "The provider wrote its result outside this job's area.", providerCode: "foreign-result" });
  }
  return match[2]!;
}

/** MP4/QuickTime (`ftyp` box) or WebM (EBML): the formats phones play. */
export function assertVideoHead(head: Uint8Array): void {
  const ftyp = head.length >= 8 && Buffer.from(head.subarray(4, 8)).toString("latin1") === "ftyp";
  const webm = head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3;
  if (!ftyp && !webm)
    throw new ProviderFailure({ kind: "retryable", message: "The provider returned something that is not a video.", providerCode: "bad-result" });
}

function resultFailure(provider: VideoProvider, error: unknown): ProviderError {
  if (error instanceof TransientLimitError)
    return { kind: "permanent", message: "The provider's video is larger than we accept.", providerCode: "result-too-large" };
  return providerErrorOf(provider, error);
}

/** cancelJob and the purge stop the provider's task where the provider allows it (best effort). */
export async function cancelAtProvider(job: JobDoc): Promise<void> {
  if (job.feature !== "video" || !job.providerTaskId) return;
  const provider = await loadVideoProvider(job.provider as ProviderId).catch(() => undefined);
  await provider?.cancel?.({ id: job.providerTaskId, model: job.model }).catch(() => undefined);
  await releaseVideoSlot(job.provider, jobIdFor(job.uid, job.requestId));
}

/**
 * Deletion of a user's data (privacy/deleteData.ts): the provider's copy of a video task goes too,
 * where the API allows: a task still running is cancelled, a finished one deleted (Runway and
 * Seedance delete finished tasks; asking again for one already deleted is answered as done).
 * Returns what happened, for the counts the user gets back.
 */
export async function deleteAtProvider(job: JobDoc, jobId: string): Promise<"none" | "deleted" | "not-possible" | "failed"> {
  if (job.feature !== "video" || !job.providerTaskId) return "none";
  const provider = await loadVideoProvider(job.provider as ProviderId).catch(() => undefined);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with `provider` as `this` below
  const call = isTerminal(job.status) ? provider?.deleteTask : provider?.cancel;
  if (!provider || !call) return "not-possible";
  try {
    await call.call(provider, { id: job.providerTaskId, model: job.model });
    return "deleted";
  } catch (error) {
    logs.providerCopyNotDeleted(jobId, job.provider, errorSummary(error).errorCode);
    return "failed";
  }
}
