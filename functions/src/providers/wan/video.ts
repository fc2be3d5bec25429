/**
 * Alibaba Wan image-to-video on Model Studio (DashScope): `POST
 * /api/v1/services/aigc/video-generation/video-synthesis` (with `X-DashScope-Async: enable`) with
 * the photo as a Base64 data URI in `img_url` (the first frame), then `GET /api/v1/tasks/{id}`.
 * The result is an OSS presigned URL; task data (and the URL) live 24 h, so it is streamed at once,
 * without our key. `POST /api/v1/tasks/{id}/cancel` stops a task still PENDING; there is no delete.
 * Same region, key and `WAN_BASE_URL` as the image adapter (default: international, Singapore).
 */
import { dataUrlOf, optionIn, refuseImage, videoPromptWithin } from "../adapterKit.js";
import { providerBaseUrl } from "../baseUrl.js";
import { openResultStream } from "../download.js";
import { classifyWithCode, providerFetch, providerJson } from "../http.js";
import type { VideoOperation, VideoProvider, VideoRequest, VideoStatus } from "../types.js";
import { errorCodeOf, NAME } from "./api.js";
import { WAN_HOSTS } from "./index.js";
import { DEFAULT_DURATION, DEFAULT_VIDEO_MODEL, DURATIONS, SILENCEABLE_MODELS, startResponseSchema, statusOf, taskSchema, VIDEO_INPUT_LIMITS, videoErrorForCode, WAN_VIDEO_MODELS } from "./videoApi.js";

export { WAN_VIDEO_MODELS };

export interface WanVideoOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createWanVideoProvider(options: WanVideoOptions): VideoProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("wan", WAN_HOSTS.international);
  const headers = { authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
  // Every API call keeps DashScope's error code from a non-2xx body for classify().
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const taskUrl = (op: VideoOperation) => `${baseUrl}/api/v1/tasks/${encodeURIComponent(op.id)}`;

  return {
    id: "wan",
    models: { default: DEFAULT_VIDEO_MODEL, allowed: WAN_VIDEO_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s, 15 min): the docs give 1–5 minutes per clip
    // and no poll interval; it also keeps us far below the query API's 20 QPS per account.

    async start(req, signal): Promise<VideoOperation> {
      const image = acceptedDataUri(req);
      const prompt = videoPromptWithin(req.prompt, VIDEO_INPUT_LIMITS.maxPromptChars, NAME);
      const durations = DURATIONS[req.model] ?? [DEFAULT_DURATION];
      const duration = optionIn("durationSeconds", req.options?.durationSeconds ?? DEFAULT_DURATION, durations, `${NAME} ${req.model} makes clips of ${durations.join(", ")} seconds`);
      const body = {
        model: req.model,
        input: { prompt, img_url: image },
        // Our prompt is precise: no LLM rewrite (may drop the identity line), no label, and no
        // auto-dubbing where the model documents turning it off (SILENCEABLE_MODELS: a face
        // animation is silent, and cheaper); wan2.5-i2v-preview may add a generated soundtrack.
        parameters: { resolution: "720P", duration, prompt_extend: false, watermark: false, ...(SILENCEABLE_MODELS.has(req.model) && { audio: false }) },
      };
      // Not idempotent: DashScope has no idempotency key, and a retry could bill a second task.
      const task = await providerJson(
        {
          url: `${baseUrl}/api/v1/services/aigc/video-generation/video-synthesis`,
          method: "POST",
          headers: { ...headers, "content-type": "application/json", "x-dashscope-async": "enable" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 60_000,
          ...api,
        },
        startResponseSchema,
      );
      return { id: task.output.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const task = await providerJson({ url: taskUrl(op), headers, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskSchema);
      return statusOf(task);
    },

    // OSS, not DashScope's API: it gets no key. The presigned URL expires after 24 h.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: options.fetch }),

    // Only PENDING tasks can be cancelled; for others DashScope answers an error, which the caller
    // (deadline, user cancel) ignores. Asking twice cannot bill twice, so retries are safe.
    async cancel(op) {
      const res = await providerFetch({ url: `${taskUrl(op)}/cancel`, method: "POST", headers, timeoutMs: 15_000, idempotent: true, ...api });
      await res.body?.cancel();
    },

    classify: (error) => classifyWithCode(error, NAME, videoErrorForCode),
  };
}

/** The photo as a data URI, refused before sending when Wan documents it cannot take it. */
function acceptedDataUri(req: VideoRequest): string {
  const { mimes, maxBytes, minSide, maxSide } = VIDEO_INPUT_LIMITS;
  const { mime, bytes, width, height } = req.image;
  if (!mimes.includes(mime)) throw refuseImage(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (bytes.byteLength > maxBytes) throw refuseImage(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(width, height) < minSide || Math.max(width, height) > maxSide) throw refuseImage(`${NAME} accepts photos from ${minSide} to ${maxSide} pixels per side`);
  return dataUrlOf(req.image);
}
