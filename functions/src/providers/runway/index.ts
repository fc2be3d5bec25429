/**
 * Runway image-to-video over its REST API: `POST /v1/image_to_video` with the photo as a data URI
 * (the first frame), then `GET /v1/tasks/{id}` (Runway asks for ≥ 5 s between polls). Results are
 * signed CloudFront URLs valid 24–48 h, streamed without our key. `DELETE /v1/tasks/{id}` cancels a
 * task still queued or running and deletes a finished one with its output: it serves both cancel
 * and deleteTask. Every call carries `X-Runway-Version`.
 */
import { dataUrlOf, deleteProviderTask, optionIn, refuseImage, videoPromptWithin } from "../adapterKit.js";
import { providerBaseUrl } from "../baseUrl.js";
import { openResultStream } from "../download.js";
import { classifyWithCode, providerJson } from "../http.js";
import type { VideoOperation, VideoProvider, VideoRequest, VideoStatus } from "../types.js";
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

export function createRunwayProvider(options: RunwayOptions): VideoProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("runway", "https://api.dev.runwayml.com");
  const headers = { authorization: `Bearer ${options.apiKey}`, "x-runway-version": RUNWAY_VERSION, accept: "application/json" };
  // Every API call keeps the one code Runway's error text yields (no credits) for classify().
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const taskUrl = (op: VideoOperation) => `${baseUrl}/v1/tasks/${encodeURIComponent(op.id)}`;

  /** DELETE cancels a pending/running task and deletes a finished one; gone already (404) is done. */
  const deleteAtRunway = (op: VideoOperation) => deleteProviderTask({ url: taskUrl(op), headers, timeoutMs: 15_000, ...api });

  return {
    id: "runway",
    models: { default: DEFAULT_MODEL, allowed: RUNWAY_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s) respects Runway's 5 s minimum; THROTTLED
    // tasks wait behind our tier's concurrency, so allow longer than the standard 15 minutes.
    polling: { deadlineMs: 25 * 60_000 },

    async start(req, signal): Promise<VideoOperation> {
      const promptImage = acceptedDataUri(req);
      const promptText = videoPromptWithin(req.prompt, INPUT_LIMITS.maxPromptChars, NAME);
      const durations = DURATIONS[req.model] ?? [DEFAULT_DURATION];
      const duration = optionIn(
        "durationSeconds",
        req.options?.durationSeconds ?? DEFAULT_DURATION,
        durations,
        `${NAME} ${req.model} makes clips of ${durations.join(", ")} seconds`,
      );
      const body = { model: req.model, promptImage, promptText, ratio: nearestRatio(req.image.width, req.image.height), duration };
      // Not idempotent: Runway has no idempotency key, and a retry could bill a second task.
      const task = await providerJson(
        {
          url: `${baseUrl}/v1/image_to_video`,
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 60_000,
          ...api,
        },
        startResponseSchema,
      );
      return { id: task.id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const task = await providerJson({ url: taskUrl(op), headers, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskSchema);
      return statusOf(task);
    },

    // CloudFront, not Runway's API: it gets no key. The signed URL expires after 24–48 h.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: options.fetch }),

    cancel: deleteAtRunway,
    deleteTask: deleteAtRunway,

    classify: (error) => classifyWithCode(error, NAME, errorForCode),
  };
}

/** The photo as a data URI, refused before sending when Runway documents it cannot take it. */
function acceptedDataUri(req: VideoRequest): string {
  if (!INPUT_LIMITS.mimes.includes(req.image.mime)) throw refuseImage(`${NAME} accepts JPEG, PNG or WebP photos only`);
  const uri = dataUrlOf(req.image);
  if (uri.length >= INPUT_LIMITS.maxDataUriChars) throw refuseImage(`${NAME} accepts photos up to about 3.7 MB`);
  return uri;
}
