/**
 * Runway image-to-video over its REST API: `POST /v1/image_to_video` with the photo as a data URI
 * (the first frame), then `GET /v1/tasks/{id}` (Runway asks for ≥ 5 s between polls). Results are
 * signed CloudFront URLs valid 24–48 h, streamed without our key. `DELETE /v1/tasks/{id}` cancels a
 * task still queued or running and deletes a finished one with its output: it serves both cancel
 * and deleteTask. Every call carries `X-Runway-Version`.
 */
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { videoInstructionFor } from "../prompts.js";
import { classifyWithCode, isLoopback, providerFetch, ProviderHttpError, providerJson } from "../http.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoResultRef, type VideoStatus } from "../types.js";
import {
  DEFAULT_DURATION,
  DEFAULT_MODEL,
  DURATIONS,
  errorCodeOf,
  errorForCode,
  INPUT_LIMITS,
  NAME,
  nearestRatio,
  RUNWAY_MODELS,
  RUNWAY_VERSION,
  startResponseSchema,
  statusOf,
  taskSchema,
} from "./api.js";

export { RUNWAY_MODELS };

export interface RunwayOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

/** What a user's photo becomes when they give no direction; the identity line is always added. */

export function createRunwayProvider(options: RunwayOptions): VideoProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("runway", "https://api.dev.runwayml.com");
  const headers = { authorization: `Bearer ${options.apiKey}`, "x-runway-version": RUNWAY_VERSION, accept: "application/json" };
  // Every API call keeps the one code Runway's error text yields (no credits) for classify().
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const taskUrl = (op: VideoOperation) => `${baseUrl}/v1/tasks/${encodeURIComponent(op.id)}`;

  /** DELETE cancels a pending/running task and deletes a finished one; gone already (404) is done. */
  async function deleteAtRunway(op: VideoOperation): Promise<void> {
    try {
      const res = await providerFetch({ url: taskUrl(op), method: "DELETE", headers, timeoutMs: 15_000, idempotent: true, ...api });
      await res.body?.cancel();
    } catch (error) {
      if (!(error instanceof ProviderHttpError && error.status === 404)) throw error;
    }
  }

  return {
    id: "runway",
    models: { default: DEFAULT_MODEL, allowed: RUNWAY_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s) respects Runway's 5 s minimum; THROTTLED
    // tasks wait behind our tier's concurrency, so allow longer than the standard 15 minutes.
    polling: { deadlineMs: 25 * 60_000 },

    async start(req, signal): Promise<VideoOperation> {
      const promptImage = acceptedDataUri(req);
      const promptText = videoInstructionFor(req.prompt);
      if (promptText.length > INPUT_LIMITS.maxPromptChars) {
        throw new AppError("invalid-argument", `prompt: too long for ${NAME}; shorten it by ${promptText.length - INPUT_LIMITS.maxPromptChars} characters`, "prompt-too-long");
      }
      const duration = req.options?.durationSeconds ?? DEFAULT_DURATION;
      const durations = DURATIONS[req.model] ?? [DEFAULT_DURATION];
      if (!(durations as readonly unknown[]).includes(duration)) {
        throw new AppError("invalid-argument", `options.durationSeconds: ${NAME} ${req.model} makes clips of ${durations.join(", ")} seconds`, "option-invalid");
      }
      const body = { model: req.model, promptImage, promptText, ratio: nearestRatio(req.image.width, req.image.height), duration };
      // Not idempotent: Runway has no idempotency key, and a retry could bill a second task.
      const task = await providerJson(
        { url: `${baseUrl}/v1/image_to_video`, method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body), signal, timeoutMs: 60_000, ...api },
        startResponseSchema,
      );
      return { id: task.id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const task = await providerJson({ url: taskUrl(op), headers, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskSchema);
      return statusOf(task);
    },

    openResult: (result, signal) => openResult(result, options.fetch, signal),

    cancel: deleteAtRunway,
    deleteTask: deleteAtRunway,

    classify: (error) => classifyWithCode(error, NAME, errorForCode),
  };
}

/** The photo as a data URI, refused before sending when Runway documents it cannot take it. */
function acceptedDataUri(req: VideoRequest): string {
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!INPUT_LIMITS.mimes.includes(req.image.mime)) throw refuse(`${NAME} accepts JPEG, PNG or WebP photos only`);
  const uri = `data:${req.image.mime};base64,${Buffer.from(req.image.bytes).toString("base64")}`;
  if (uri.length >= INPUT_LIMITS.maxDataUriChars) throw refuse(`${NAME} accepts photos up to about 3.7 MB`);
  return uri;
}

/**
 * Streams a result URL (CloudFront, not Runway's API: it gets no key). Mirrors download.ts: https
 * only (loopback for fakes), and 401/403/404/410 mean the signed URL has expired.
 */
async function openResult(result: VideoResultRef, doFetch: typeof fetch | undefined, signal?: AbortSignal) {
  if (!("url" in result)) throw new ProviderFailure({ kind: "permanent", message: `${NAME} results are URLs only.`, providerCode: "unsupported-result" });
  const url = new URL(result.url);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} returned a result we cannot fetch securely.`, providerCode: "insecure-result-url" });
  }
  let res: Response;
  try {
    // The timeout also bounds reading the body: allow a whole clip to stream.
    res = await providerFetch({ url: url.href, signal, timeoutMs: 5 * 60_000, idempotent: true, fetch: doFetch });
  } catch (error) {
    if (error instanceof ProviderHttpError && [401, 403, 404, 410].includes(error.status)) {
      throw new ProviderFailure({ kind: "permanent", message: `${NAME}'s result expired before we could fetch it.`, providerCode: "result-expired", httpStatus: error.status });
    }
    throw error;
  }
  if (!res.body) throw new ProviderFailure({ kind: "retryable", message: `${NAME} sent an empty result.`, providerCode: "empty-result" });
  const length = Number(res.headers.get("content-length"));
  return { body: res.body, contentType: res.headers.get("content-type") ?? undefined, ...(res.headers.has("content-length") && Number.isFinite(length) && { contentLength: length }) };
}
