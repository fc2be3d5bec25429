/**
 * Kling image-to-video shapes (shared/providers/kling-video.md), the per-model modes and clip
 * lengths, and the pure mapping of its task statuses onto VideoStatus. Service codes and the
 * failed-task wording are classified by the image adapter's api.ts, imported, not copied.
 * No network here.
 */
import { z } from "zod";
import type { VideoStatus } from "../types.js";
import { NAME, outcomeOf } from "./api.js";

interface ModelSpec {
  /** `std` = 720p, `pro` = 1080p. */
  modes: readonly ("std" | "pro")[];
  /** Seconds; sent as a string. */
  durations: readonly number[];
  /** Takes `sound` (v2.6 and later): sent "off", since audio costs more and we keep clips silent. */
  sound: boolean;
}

/**
 * From the official image2video reference and capability map (doc copies): kling-v3 is the newest
 * model on this endpoint, std or pro, 3–15 s; kling-v2-6 takes pro only; kling-v2-5-turbo is the
 * cheaper std/pro 5|10 s fallback. v1.x (cfg_scale, motion brush) is not offered.
 */
export const MODEL_SPECS: Record<string, ModelSpec> = {
  "kling-v3": { modes: ["std", "pro"], durations: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], sound: true },
  "kling-v2-6": { modes: ["pro"], durations: [5, 10], sound: true },
  "kling-v2-5-turbo": { modes: ["std", "pro"], durations: [5, 10], sound: false },
};
export const KLING_VIDEO_MODELS = Object.keys(MODEL_SPECS);
export const DEFAULT_MODEL = "kling-v3";
export const DEFAULT_DURATION = 5;

export const videoTaskResponseSchema = z.object({
  code: z.number(),
  request_id: z.string().optional(),
  data: z
    .object({
      task_id: z.string().optional(),
      task_status: z.string(),
      task_status_msg: z.string().nullish(),
      task_result: z
        .object({ videos: z.array(z.object({ url: z.string().min(1) }).passthrough()).nullish() })
        .passthrough()
        .nullish(),
    })
    .nullish(),
});
export type VideoTask = NonNullable<z.infer<typeof videoTaskResponseSchema>["data"]>;

/** Maps a task (exact spelling `succeed`) onto a VideoStatus; unknown statuses stay running (VIDEO.md §5) with `raw` kept. */
export function statusOf(task: VideoTask): VideoStatus {
  const raw = task.task_status;
  switch (raw) {
    case "submitted":
      return { state: "queued", raw };
    case "processing":
      return { state: "running", raw };
    case "succeed": {
      const url = task.task_result?.videos?.[0]?.url;
      if (!url) return { state: "failed", error: { kind: "permanent", message: `${NAME} reported success without a video.`, providerCode: "no-result" }, raw };
      return { state: "succeeded", result: { url }, raw };
    }
    case "failed": {
      // The reason is free text (`task_status_msg`): the image adapter's outcomeOf matches its
      // policy wording (content risk control → policy_rejected) and keeps none of the text.
      const outcome = outcomeOf({ task_status: "failed", task_status_msg: task.task_status_msg });
      const error =
        outcome.state === "failed"
          ? outcome.error
          : { kind: "permanent" as const, message: `${NAME} could not make a video from this photo.`, providerCode: "failed" };
      return { state: "failed", error, raw };
    }
    default:
      return { state: "running", raw };
  }
}
