/**
 * A job's privacy receipt: who received the photo, when our copies of the face went and when the
 * result goes. Built from the job status document alone, so it costs no read or write; createJob
 * (image results) and getJobResult hand it to the owner, and clients show it with the job.
 */
import { isProviderId, PROVIDERS } from "../providers/catalog.js";
import { PROVIDER_DATA_PRACTICES } from "../providers/retention.js";
import type { JobDoc } from "./schema.js";

export interface JobReceipt {
  /** The provider that received the photo, its name as users see it, and the model. */
  provider: string;
  providerName: string;
  model: string;
  /** What that provider says it keeps (providers/retention.ts). */
  providerRetention: string;
  /** Providers tried first that were down or over quota (automatic fallback): they may have received it too. */
  fallbacks?: { provider: string; code: string }[];
  /** No copy of the photo is left on our side (memory, upload or staged input). */
  inputDeleted: boolean;
  /** When the job recorded the photo gone (ISO 8601). */
  inputDeletedAt?: string;
  /** No copy of the result is held on our side: image results are returned inline and never stored. */
  resultDeleted: boolean;
  /** While a video result is held: it is deleted on ackJobResult or at this time, whichever comes first. */
  resultHeldUntil?: string;
  /** The job's status document (which holds no face data) is deleted by this time. */
  statusKeptUntil?: string;
}

export function receiptOf(job: JobDoc): JobReceipt {
  const known = isProviderId(job.provider);
  const resultHeld = job.resultDeleted === false && job.resultExpiresAt !== undefined;
  const deletedAt = job.inputDeleted ? inputDeletedAt(job) : undefined;
  return {
    provider: job.provider,
    providerName: known ? PROVIDERS[job.provider as keyof typeof PROVIDERS].name : job.provider,
    model: job.model,
    providerRetention: known ? PROVIDER_DATA_PRACTICES[job.provider as keyof typeof PROVIDERS].retention : "unknown provider",
    ...(job.fallbacks?.length && { fallbacks: job.fallbacks.map((f) => ({ ...f })) }),
    inputDeleted: job.inputDeleted,
    ...(deletedAt && { inputDeletedAt: deletedAt.toDate().toISOString() }),
    resultDeleted: !resultHeld,
    ...(resultHeld && { resultHeldUntil: job.resultExpiresAt!.toDate().toISOString() }),
    ...(job.retainUntil && { statusKeptUntil: job.retainUntil.toDate().toISOString() }),
  };
}

/**
 * The time of the write that set `inputDeleted` (jobs/state.ts): a video job's start once the
 * provider has the task (`videoStarted`), else the job's end (`ended`, on every terminal state).
 */
function inputDeletedAt(job: JobDoc) {
  if (job.feature === "video" && job.providerTaskId !== undefined && job.startedAt) return job.startedAt;
  return job.finishedAt ?? job.updatedAt;
}
