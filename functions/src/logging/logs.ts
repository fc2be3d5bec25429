/**
 * Every log line the backend writes, one named function each, so what is logged can be reviewed in
 * one place. Lines carry a jobId and stable codes only: never image bytes, base64, prompts, signed
 * or provider URLs, tokens or provider response bodies (ARCHITECTURE §5.8).
 */
import * as functionsLogger from "firebase-functions/logger";
import { redactFields } from "./redact.js";

/** Whatever a caller passes, every line goes through the one redaction layer (redact.ts). */
const logger = {
  info: (message: string, fields: object) => functionsLogger.info(message, redactFields(fields)),
  warn: (message: string, fields: object) => functionsLogger.warn(message, redactFields(fields)),
  error: (message: string, fields: object) => functionsLogger.error(message, redactFields(fields)),
};

export const jobCreated = (jobId: string, feature: string, provider: string, model: string) => logger.info("job created", { jobId, feature, provider, model });

export const jobDuplicateRequest = (jobId: string, status: string) => logger.info("duplicate request answered from the existing job", { jobId, status });

export const providerFallback = (jobId: string, from: string, to: string, reason: string) =>
  logger.warn("provider down, falling back to the next one", { jobId, from, to, reason });

export const quotaRefused = (reason: string, retryAfterSeconds: number) => logger.info("job refused by quota", { reason, retryAfterSeconds });

/** Counts and sizes only (MB): what the instance had committed when a request could not fit. */
export const admissionRefused = (fn: string, requestMb: number, inUseMb: number, waiting: number) =>
  logger.warn("request refused: the instance's memory budget is full", { fn, requestMb, inUseMb, waiting });

export const admissionWaited = (fn: string, requestMb: number, waitedMs: number) =>
  logger.info("request waited for memory before it was admitted", { fn, requestMb, waitedMs });

export const jobSucceeded = (jobId: string, durationMs: number) => logger.info("job succeeded", { jobId, durationMs });

export const jobFailed = (jobId: string, code: string, reason: string) => logger.warn("job failed", { jobId, code, reason });

export const jobEndedElsewhere = (jobId: string, status: string) => logger.info("job reached a terminal state in another invocation first", { jobId, status });

export const jobCancelled = (jobId: string) => logger.info("job cancelled", { jobId });

export const inputDeleted = (jobId: string, objects: number) => logger.info("job input deleted", { jobId, objects });

export const requestRejected = (fn: string, code: string, reason: string) => logger.info("request rejected", { fn, code, reason });

export const transientDeleteFailed = (jobId: string | undefined, errorCode: string) =>
  logger.error("could not delete a transient object; the purge will retry", { jobId, errorCode });

export const purgeCompleted = (counts: Record<string, number>, durationMs: number) => logger.info("purge completed", { ...counts, durationMs });

export const purgeStatsNotRecorded = (errorCode: string) =>
  logger.error("could not add the purge run to the daily statistics; the purge itself completed", { errorCode });

export const dailyStatsComputed = (day: string, jobs: number, pagesRead: number, durationMs: number) =>
  logger.info("daily statistics computed", { day, jobs, pagesRead, durationMs });

export const runtimeConfigInvalid = (fields: string) => logger.error("config/runtime is invalid; using the safe default (local provider only)", { fields });

/** Firestore or Storage failed transiently under a request; the client got unavailable/backend-unavailable. */
export const backendUnavailable = (fn: string, errorName: string, errorCode: string) => logger.warn("backend unavailable", { fn, errorName, errorCode });

export const internalError = (correlationId: string, fn: string, errorName: string, errorCode: string) =>
  logger.error("internal error", { correlationId, fn, errorName, errorCode });

export const taskRejected = (fn: string) => logger.error("malformed task payload dropped", { fn });

export const uploadStored = (uploadId: string, bytes: number, mimeType: string) => logger.info("upload stored", { uploadId, bytes, mimeType });

export const privacyRequestRecorded = (type: string, channel: string, outcome: string) => logger.info("privacy request recorded", { type, channel, outcome });

export const userDataExported = (counts: Record<string, number>) => logger.info("user data exported", counts);

export const userDataDeleted = (channel: string, counts: Record<string, number>) => logger.info("user data deleted", { channel, ...counts });

export const providerCopyNotDeleted = (jobId: string, provider: string, errorCode: string) =>
  logger.warn("could not delete a provider's copy of a task", { jobId, provider, errorCode });

export const gpcSignalNotRecorded = (fn: string, errorCode: string) =>
  logger.error("could not record a Global Privacy Control signal; the next request will try again", { fn, errorCode });

export const providerBusy = (provider: string, retryAfterSeconds: number) =>
  logger.warn("provider at its cap on this instance; request refused", { provider, retryAfterSeconds });

export const videoJobWaiting = (jobId: string, provider: string, retryAfterMs: number) =>
  logger.info("video job waits for a provider slot", { jobId, provider, retryAfterMs });

export const providerSlotNotReleased = (provider: string, errorCode: string) =>
  logger.warn("provider slot not released; it frees at the job's deadline", { provider, errorCode });

/** Admin-facing: a default model (config/runtime or built-in) is past its shutdown day; `standIn` served instead. */
export const defaultModelRetired = (provider: string, feature: string, retired: string, standIn: string, origin: "config" | "built-in") =>
  logger.warn("default model shut down by its provider; serving another (update config/runtime.defaults or the adapter)", {
    provider,
    feature,
    retired,
    standIn,
    origin,
  });

export const accountCheckFailed = (errorCode: string) =>
  logger.error("could not look the caller's account up in Firebase Auth; the request was refused as unavailable", { errorCode });
