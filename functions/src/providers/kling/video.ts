/**
 * Kling AI image-to-video: `POST /v1/videos/image2video` with the photo as raw base64 (the first
 * frame) and the job id as `external_task_id` (Kling's only idempotency key: a repeated start of
 * the same job is refused instead of billed twice), then `GET /v1/videos/image2video/{task_id}`.
 * Results are CDN URLs kept 30 days, streamed without any credential. Kling documents no cancel
 * and no delete. Auth: a short-lived HS256 JWT (jwt.ts), signed fresh for every call so a token
 * never expires while a job polls. Auth, envelope and classification: the shared client.ts.
 */
import { optionIn, refuseImage, videoPromptWithin } from "../adapterKit.js";
import { openResultStream } from "../download.js";
import type { VideoOperation, VideoProvider, VideoRequest, VideoStatus } from "../types.js";
import { INPUT_LIMITS, NAME, submitResponseSchema } from "./api.js";
import { createKlingClient, type KlingClientOptions } from "./client.js";
import { DEFAULT_DURATION, DEFAULT_MODEL, KLING_VIDEO_MODELS, MODEL_SPECS, statusOf, videoTaskResponseSchema } from "./videoApi.js";

export { KLING_VIDEO_MODELS };

export type KlingVideoOptions = KlingClientOptions;

export function createKlingVideoProvider(options: KlingVideoOptions): VideoProvider {
  const kling = createKlingClient(options);
  const taskUrl = (op: VideoOperation) => `${kling.baseUrl}/v1/videos/image2video/${encodeURIComponent(op.id)}`;

  return {
    id: "kling",
    models: { default: DEFAULT_MODEL, allowed: KLING_VIDEO_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s; third parties poll every ~10 s). Std clips
    // take 0.5–2 min, pro/long ones up to ~5 min plus queueing: allow 20 minutes.
    polling: { deadlineMs: 20 * 60_000 },

    async start(req, signal): Promise<VideoOperation> {
      assertAcceptedImage(req);
      const spec = MODEL_SPECS[req.model] ?? MODEL_SPECS[DEFAULT_MODEL]!;
      const mode = optionIn("mode", req.options?.mode ?? spec.modes[0], spec.modes, `${NAME} ${req.model} takes ${spec.modes.join(" or ")}`);
      const duration = optionIn(
        "durationSeconds",
        req.options?.durationSeconds ?? DEFAULT_DURATION,
        spec.durations,
        `${NAME} ${req.model} makes clips of ${spec.durations.join(", ")} seconds`,
      );
      const prompt = videoPromptWithin(req.prompt, INPUT_LIMITS.maxPromptChars, NAME);
      const body = {
        model_name: req.model, // not the legacy `model` field, which means v1
        image: Buffer.from(req.image.bytes).toString("base64"), // raw base64: Kling rejects a data: prefix
        prompt,
        mode,
        duration: String(duration), // a string enum in Kling's schema
        ...(spec.sound && { sound: "off" }),
        external_task_id: req.jobId,
      };
      // Not idempotent: a retry could start (and bill) a second task.
      const task = await kling.call(
        { url: `${kling.baseUrl}/v1/videos/image2video`, method: "POST", body: JSON.stringify(body), signal, timeoutMs: 60_000 },
        submitResponseSchema,
      );
      return { id: task.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      return statusOf(await kling.read(taskUrl(op), videoTaskResponseSchema, signal));
    },

    // The CDN is not Kling's API: it gets no token. Its URLs expire after 30 days.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: kling.fetch }),

    classify: kling.classify,
  };
}

/** Refuses, before any upload, a photo Kling documents it cannot take: JPEG/PNG, ≤ 10 MB, sides ≥ 300 px, aspect 1:2.5–2.5:1. */
function assertAcceptedImage({ image }: VideoRequest): void {
  const { mimes, maxBytes, minSide, maxAspect } = INPUT_LIMITS;
  if (!mimes.includes(image.mime)) throw refuseImage(`${NAME} accepts JPEG or PNG photos only`);
  if (image.bytes.byteLength > maxBytes) throw refuseImage(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(image.width, image.height) < minSide) throw refuseImage(`${NAME} needs at least ${minSide} pixels per side`);
  if (Math.max(image.width, image.height) / Math.min(image.width, image.height) > maxAspect)
    throw refuseImage(`${NAME} accepts aspect ratios up to ${maxAspect}:1`);
}
