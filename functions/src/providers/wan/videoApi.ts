/**
 * Alibaba Wan image-to-video on Model Studio (DashScope) (shared/providers/alibaba-wan-video.md):
 * models, input limits, task shapes and the mapping of task statuses onto VideoStatus. Error codes
 * go through the image adapter's one mapping (api.ts errorForCode). No network here.
 */
import { z } from "zod";
import type { ImageMime, ProviderError, VideoStatus } from "../types.js";
import { errorForCode, NAME } from "./api.js";

/**
 * The first-frame ("legacy", `input.img_url`) protocol, which takes a Base64 data URI. wan2.6-i2v
 * is the current default of the API reference; -flash is faster and cheaper. wan2.7-i2v takes its
 * image in `media[]` as a URL only (Base64 unconfirmed), so it is not offered.
 */
export const WAN_VIDEO_MODELS = ["wan2.6-i2v", "wan2.6-i2v-flash", "wan2.5-i2v-preview"] as const;
export const DEFAULT_VIDEO_MODEL = WAN_VIDEO_MODELS[0];

/** Clip lengths per model (API reference and resellers' copies): 2.6 5/10/15 s, 2.6-flash 2–15 s, 2.5 5/10 s. */
export const DURATIONS: Record<string, readonly number[]> = {
  "wan2.6-i2v": [5, 10, 15],
  "wan2.6-i2v-flash": Array.from({ length: 14 }, (_, i) => i + 2),
  "wan2.5-i2v-preview": [5, 10],
};
export const DEFAULT_DURATION = 5;

/**
 * `parameters.audio` (auto-dubbing, on by default) is documented for the 2.6 models only, so only
 * they are asked for a silent clip. wan2.5-i2v-preview gets no `audio` field (it may ignore or
 * reject one): its clips may carry a generated soundtrack; admins who want silence pick a 2.6 model.
 */
export const SILENCEABLE_MODELS: ReadonlySet<string> = new Set(["wan2.6-i2v", "wan2.6-i2v-flash"]);

/** `img_url` limits: JPEG/PNG/WebP (and BMP), 360–2000 px per side, ≤ 10 MB. */
export const VIDEO_INPUT_LIMITS = {
  mimes: ["image/jpeg", "image/png", "image/webp"] as readonly ImageMime[],
  maxBytes: 10 * 1024 * 1024,
  minSide: 360,
  maxSide: 2000,
  /** wan2.5/2.6 prompt limit; longer prompts are silently truncated, cutting our identity line. */
  maxPromptChars: 1500,
};

export const startResponseSchema = z.object({
  request_id: z.string().optional(),
  output: z.object({ task_id: z.string().min(1), task_status: z.string().optional() }),
});

export const taskSchema = z.object({
  request_id: z.string().optional(),
  output: z.object({ task_id: z.string().optional(), task_status: z.string(), code: z.string().optional(), video_url: z.string().optional() }).passthrough(),
});
export type Task = z.infer<typeof taskSchema>;

/**
 * DashScope's codes onto our kinds: the image adapter's mapping, plus `IPInfringementSuspect`
 * (content rejected as someone's IP), which is a policy refusal rather than a bad photo.
 */
export function videoErrorForCode(code: string | undefined): ProviderError | undefined {
  if (code === "IPInfringementSuspect")
    return { kind: "policy_rejected", message: `${NAME} declined this photo or instruction under its content policy.`, providerCode: code };
  return errorForCode(code);
}

/** Maps a task (exact spellings, the SDK's SUSPENDED included) onto a VideoStatus; unknown values stay running. */
export function statusOf(task: Task): VideoStatus {
  const { task_status: raw, code, video_url: url } = task.output;
  switch (raw) {
    case "PENDING":
    case "SUSPENDED":
      return { state: "queued", raw };
    case "RUNNING":
      return { state: "running", raw };
    case "SUCCEEDED":
      if (!url) return { state: "failed", error: permanent(`${NAME} reported success without a video.`, "no-result"), raw };
      return { state: "succeeded", result: { url }, raw }; // an OSS presigned URL: no key goes with it
    case "FAILED": // moderation of the input or the output arrives here too, as DataInspectionFailed
      return { state: "failed", error: videoErrorForCode(code) ?? permanent(`${NAME} could not make a video from this photo.`, raw), raw };
    case "CANCELED":
      return { state: "cancelled", error: permanent(`${NAME} cancelled the task.`, raw), raw };
    case "UNKNOWN": // the task id is unknown or older than 24 h: it will not come back
      return { state: "failed", error: permanent(`${NAME} no longer knows this task; it has expired.`, raw), raw };
    default:
      return { state: "running", raw };
  }
}

const permanent = (message: string, providerCode: string): ProviderError => ({ kind: "permanent", message, providerCode });
