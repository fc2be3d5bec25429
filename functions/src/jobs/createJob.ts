/**
 * createJob for image features: validate, route, record the job, call the provider, return the
 * result inline. Face data stays in memory; the only object it may come from (an upload) is deleted
 * as soon as it is read, so every path (success, failure, cancel, crash) ends with no input stored.
 */
import { settings, type Settings } from "../config/params.js";
import { getRuntimeConfig } from "../config/runtimeConfig.js";
import { AppError } from "../errors.js";
import { prepareInputImage } from "../images/validate.js";
import * as logs from "../logging/logs.js";
import { transientPaths } from "../storage/paths.js";
import { deleteTransient, readTransient } from "../storage/transientStore.js";
import { isTakeableUpload } from "../uploads/uploadRecord.js";
import { loadImageRoute, loadVideoRoute, routeImageRequest, routeVideoRequest } from "./route.js";
import { startVideoJob, videoDeadlineMs } from "./videoJob.js";
import { receiptOf, type JobReceipt } from "./receipt.js";
import { runImageProviderWithinLimits } from "./runProvider.js";
import { jobIdFor } from "./jobId.js";
import { createJobOnce, finishIfUnchanged, transitionJob } from "./repository.js";
import { consentSchema, createJobSchema, type CreateJobRequest, type JobDoc } from "./schema.js";
import { isTerminal, type JobStatus } from "../domain/jobStatus.js";
import * as state from "./state.js";
import { parseRequest } from "../util/zodMessage.js";
import type { ProviderId } from "../providers/catalog.js";
import type { InputImage, ResultImage } from "../providers/types.js";

export interface CreateJobResponse {
  jobId: string;
  status: JobStatus;
  result?: { mimeType: string; base64: string; width: number; height: number };
  error?: { code: string; message: string };
  /** Who received the photo and when our copies went: with an image result, and on a retried request. */
  receipt?: JobReceipt;
}

export function parseCreateJobRequest(data: unknown, s: Settings): CreateJobRequest {
  const request = parseRequest(createJobSchema(s), data);
  if (!consentSchema.safeParse(request.consent).success) {
    throw new AppError(
      "failed-precondition",
      "consent: the user must agree to send this photo to the AI provider ({ faceDataProcessing: true, policyVersion })",
      "consent-missing",
    );
  }
  return request;
}

export async function createJob(uid: string, data: unknown, now = Date.now()): Promise<CreateJobResponse> {
  const s = settings();
  const request = parseCreateJobRequest(data, s);
  const config = await getRuntimeConfig();
  const route =
    request.feature === "video"
      ? { kind: "video" as const, ...(await routeVideoRequest(request, config)) }
      : { kind: "image" as const, feature: request.feature, ...(await routeImageRequest(request.feature, request, config)) };
  const jobId = jobIdFor(uid, request.requestId);
  // Inline images are checked before the job exists, so bad input leaves nothing behind at all.
  let inline = "base64" in request.image ? await decodeInline(request.image, s) : undefined;

  const queued = state.queuedJob({
    uid,
    requestId: request.requestId,
    feature: request.feature,
    provider: route.provider.id,
    model: route.model,
    now,
    deadlineMs: route.kind === "video" ? videoDeadlineMs(route.provider, s) : s.imageJobDeadlineMinutes * 60_000,
  });
  // Image jobs start at once, so they are created running: one write fewer per job.
  const job = route.kind === "image" ? { ...queued, ...state.started(now, 1) } : queued;
  const created = await createJobOnce(jobId, job, config.quotas);
  if (!created.created) {
    logs.jobDuplicateRequest(jobId, created.existing.status);
    return { jobId, status: created.existing.status, ...(created.existing.error && { error: created.existing.error }), receipt: receiptOf(created.existing) };
  }
  logs.jobCreated(jobId, request.feature, route.provider.id, route.model);

  const served = new ServedBy(jobId, route.provider.id, route.model);
  let startedAt: number | undefined = route.kind === "image" ? now : undefined;
  try {
    // The photo is held only until the provider has answered, not while the answer is encoded.
    let image: InputImage | undefined = inline ?? (await takeUpload(uid, jobId, (request.image as { uploadId: string }).uploadId, s));
    inline = undefined;
    if (route.kind === "video") {
      startedAt = Date.now();
      const status = await served.withFallback(
        route,
        route.fallbacks,
        (id) => loadVideoRoute(id, request, config),
        ({ provider, model }) =>
          startVideoJob(uid, jobId, provider, { model, image: image!, prompt: request.prompt, options: request.options, jobId }, startedAt!, served.fields()),
      );
      return { jobId, status };
    }
    const { feature } = route;
    const result = await served.withFallback(
      route,
      route.fallbacks,
      (id) => loadImageRoute(id, feature, request, config),
      ({ provider, model }) =>
        runImageProviderWithinLimits(
          provider,
          { feature, model, image: image!, prompt: request.prompt, style: request.style, options: request.options, jobId },
          s,
          config,
        ),
    );
    image = undefined;
    const finishedAt = Date.now();
    const finished = { ...state.succeededInline(finishedAt, now), ...served.fields() };
    const outcome = await finishIfUnchanged(jobId, finished, created.writeTime);
    if (!outcome.finished) {
      // Cancelled or expired meanwhile: that state stands and the result is not handed out.
      logs.jobEndedElsewhere(jobId, outcome.current.status);
      return { jobId, status: outcome.current.status };
    }
    logs.jobSucceeded(jobId, finishedAt - now);
    return { jobId, status: "succeeded", result: toInline(result), receipt: receiptOf({ ...job, ...finished }) };
  } catch (error) {
    const failure = error instanceof AppError ? error : undefined;
    const code = failure?.code ?? "internal";
    const message = failure?.message ?? "The job failed because of an internal error.";
    // Read-then-write: a cancel or expiry that ended the job meanwhile stands (terminal states never change).
    const failed = { ...state.failed(Date.now(), { code: failure?.reason ?? code, message }, startedAt), ...served.fields() };
    const after = await transitionJob(jobId, (current) => (isTerminal(current.status) ? undefined : failed));
    if (after && after.status !== "failed") logs.jobEndedElsewhere(jobId, after.status);
    else logs.jobFailed(jobId, code, failure?.reason ?? "unexpected");
    throw error;
  }
}

/**
 * Provider errors that say "this provider, now" rather than "this request": worth another provider.
 * `provider-busy` (our own per-provider cap, jobs/providerLimits.ts) too: the photo has not left yet.
 */
const FALLBACK_REASONS = new Set(["provider-unavailable", "provider-quota", "provider-busy"]);

/**
 * Which provider served the job, after any automatic fallback, and the ones that were down before
 * it: recorded in the job with the write that ends (or, for video, starts) it.
 */
class ServedBy {
  private readonly skipped: { provider: string; code: string }[] = [];
  constructor(
    private readonly jobId: string,
    private provider: string,
    private model: string,
  ) {}

  async withFallback<P extends { id: string }, T>(
    first: { provider: P; model: string },
    fallbacks: readonly ProviderId[],
    load: (id: ProviderId) => Promise<{ provider: P; model: string }>,
    run: (route: { provider: P; model: string }) => Promise<T>,
  ): Promise<T> {
    let current = first;
    let cause: unknown; // why the first provider was left: what the user hears if no other can serve
    for (const next of [...fallbacks, undefined]) {
      try {
        return await run(current);
      } catch (error) {
        const reason = error instanceof AppError ? error.reason : undefined;
        // A stand-in that cannot take this request (a style it lacks, say) is skipped, not blamed.
        const unsuited = cause !== undefined && error instanceof AppError && error.code === "invalid-argument";
        if (!unsuited && (!reason || !FALLBACK_REASONS.has(reason))) throw error;
        cause ??= error;
        if (!next) throw unsuited ? cause : error;
        this.skipped.push({ provider: current.provider.id, code: reason! });
        logs.providerFallback(this.jobId, current.provider.id, next, reason!);
        current = await load(next);
        this.provider = current.provider.id;
        this.model = current.model;
      }
    }
    throw new Error("unreachable: the last candidate rethrows");
  }

  /** Nothing when the first choice served, so the usual job document is unchanged. */
  fields(): Partial<JobDoc> {
    return this.skipped.length ? { provider: this.provider, model: this.model, fallbacks: [...this.skipped] } : {};
  }
}

/** Validated, stripped of metadata (EXIF/GPS, XMP, IPTC, comments), HEIC made JPEG: the bytes providers see. */
function decodeInline(image: { base64: string; mimeType: string }, s: Settings): Promise<InputImage> {
  const bytes = Buffer.from(image.base64, "base64");
  return prepareInputImage(bytes, image.mimeType, { maxBytes: s.maxImageBytes, maxPixels: s.maxImagePixels });
}

/**
 * Reads the caller's own upload into memory and deletes the object at once, whether or not it is
 * a valid image: from here on the only copy is this invocation's memory.
 */
async function takeUpload(uid: string, jobId: string, uploadId: string, s: Settings): Promise<InputImage> {
  const path = transientPaths.upload(uid, uploadId);
  const upload = await readTransient(path);
  const takeable = upload !== undefined && isTakeableUpload(upload, uid, Date.now(), s);
  // Whatever is there goes now: an expired upload, or one uploadImage did not write, is no input.
  if (upload) await deleteTransient(path);
  if (!takeable) throw new AppError("not-found", "image.uploadId: no such upload (it may have expired)", "upload-not-found");
  logs.inputDeleted(jobId, 1);
  return prepareInputImage(upload.bytes, upload.contentType ?? "", { maxBytes: s.maxImageBytes, maxPixels: s.maxImagePixels });
}

function toInline(image: ResultImage): NonNullable<CreateJobResponse["result"]> {
  const bytes = Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength); // a view, not a copy
  return { mimeType: image.mime, base64: bytes.toString("base64"), width: image.width, height: image.height };
}
