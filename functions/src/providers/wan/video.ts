/**
 * Alibaba Wan image-to-video on Model Studio (DashScope): `POST
 * /api/v1/services/aigc/video-generation/video-synthesis` (with `X-DashScope-Async: enable`) with
 * the photo as a Base64 data URI in `img_url` (the first frame), then `GET /api/v1/tasks/{id}`.
 * The result is an OSS presigned URL; task data (and the URL) live 24 h, so it is streamed at once,
 * without our key. `POST /api/v1/tasks/{id}/cancel` stops a task still PENDING; there is no delete.
 * Same region, key and `WAN_BASE_URL` as the image adapter (default: international, Singapore).
 */
import { dataUrlOf, optionIn, refuseImage, videoPromptWithin } from "../adapterKit.js";
import { openResultStream } from "../download.js";
import type { VideoOperation, VideoProvider, VideoRequest, VideoStatus } from "../types.js";
import { NAME } from "./api.js";
import { createWanClient, type WanClientOptions } from "./client.js";
import {
  DEFAULT_DURATION,
  DEFAULT_VIDEO_MODEL,
  DURATIONS,
  SILENCEABLE_MODELS,
  startResponseSchema,
  statusOf,
  taskSchema,
  VIDEO_INPUT_LIMITS,
  videoErrorForCode,
  WAN_VIDEO_MODELS,
} from "./videoApi.js";

export { WAN_VIDEO_MODELS };

export type WanVideoOptions = WanClientOptions;

export function createWanVideoProvider(options: WanVideoOptions): VideoProvider {
  const dashscope = createWanClient(options);

  return {
    id: "wan",
    models: { default: DEFAULT_VIDEO_MODEL, allowed: WAN_VIDEO_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s, 15 min): the docs give 1–5 minutes per clip
    // and no poll interval; it also keeps us far below the query API's 20 QPS per account.

    async start(req, signal): Promise<VideoOperation> {
      const image = acceptedDataUri(req);
      const prompt = videoPromptWithin(req.prompt, VIDEO_INPUT_LIMITS.maxPromptChars, NAME);
      const durations = DURATIONS[req.model] ?? [DEFAULT_DURATION];
      const duration = optionIn(
        "durationSeconds",
        req.options?.durationSeconds ?? DEFAULT_DURATION,
        durations,
        `${NAME} ${req.model} makes clips of ${durations.join(", ")} seconds`,
      );
      const body = {
        model: req.model,
        input: { prompt, img_url: image },
        // Our prompt is precise: no LLM rewrite (may drop the identity line), no label, and no
        // auto-dubbing where the model documents turning it off (SILENCEABLE_MODELS: a face
        // animation is silent, and cheaper); wan2.5-i2v-preview may add a generated soundtrack.
        parameters: { resolution: "720P", duration, prompt_extend: false, watermark: false, ...(SILENCEABLE_MODELS.has(req.model) && { audio: false }) },
      };
      const task = await dashscope.startTask("/api/v1/services/aigc/video-generation/video-synthesis", body, startResponseSchema, signal);
      return { id: task.output.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      return statusOf(await dashscope.readTask(op.id, taskSchema, signal));
    },

    // OSS, not DashScope's API: it gets no key. The presigned URL expires after 24 h.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: dashscope.fetch }),

    // Only PENDING tasks can be cancelled (client.ts); the callers ignore DashScope's refusal.
    cancel: (op) => dashscope.cancelTask(op.id, 15_000),

    classify: (error) => dashscope.classify(error, videoErrorForCode),
  };
}

/** The photo as a data URI, refused before sending when Wan documents it cannot take it. */
function acceptedDataUri(req: VideoRequest): string {
  const { mimes, maxBytes, minSide, maxSide } = VIDEO_INPUT_LIMITS;
  const { mime, bytes, width, height } = req.image;
  if (!mimes.includes(mime)) throw refuseImage(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (bytes.byteLength > maxBytes) throw refuseImage(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(width, height) < minSide || Math.max(width, height) > maxSide)
    throw refuseImage(`${NAME} accepts photos from ${minSide} to ${maxSide} pixels per side`);
  return dataUrlOf(req.image);
}
