/**
 * MiniMax Hailuo image-to-video (v1 API, shared/providers/minimax-hailuo.md): models with their
 * resolution × duration matrix, first-frame limits, response shapes, and the pure mapping of its
 * task statuses onto VideoStatus. `base_resp` codes are classified by the image adapter's api.ts.
 * No network here.
 */
import { z } from "zod";
import type { ImageMime, ProviderError, VideoStatus } from "../types.js";
import { errorForCode, NAME } from "./api.js";

/**
 * Official intro page: Hailuo-2.3 (newest, T2V+I2V) is the default; 2.3-Fast is I2V-only and
 * cheaper; Hailuo-02 is the previous generation. Clip lengths per resolution (MiniMax MCP docstring,
 * ComfyUI node; 1080P is 6 s only). 768P/6 s is the documented default.
 */
export const MODEL_SPECS: Record<string, Record<string, readonly number[]>> = {
  "MiniMax-Hailuo-2.3": { "768P": [6, 10], "1080P": [6] },
  "MiniMax-Hailuo-2.3-Fast": { "768P": [6, 10], "1080P": [6] },
  "MiniMax-Hailuo-02": { "512P": [6, 10], "768P": [6, 10], "1080P": [6] },
};
export const MINIMAX_VIDEO_MODELS = Object.keys(MODEL_SPECS);
export const DEFAULT_MODEL = "MiniMax-Hailuo-2.3";
export const DEFAULT_RESOLUTION = "768P";
export const DEFAULT_DURATION = 6;

/** `first_frame_image`: JPG/JPEG/PNG/WebP, under 20 MB, short side over 300 px, aspect 2:5 to 5:2. */
export const INPUT_LIMITS = {
  mimes: ["image/jpeg", "image/png", "image/webp"] as readonly ImageMime[],
  maxBytes: 20 * 1024 * 1024,
  minShortSide: 301,
  maxAspect: 2.5,
  /** Prompt limit in MiniMax's video reference. */
  maxPromptChars: 2000,
};

const baseResp = z.object({ status_code: z.number().int() }).passthrough().nullish();
const id = z.union([z.string(), z.number()]).transform(String);

export const startResponseSchema = z.object({ task_id: id.nullish(), base_resp: baseResp });
export const queryResponseSchema = z.object({ status: z.string().nullish(), file_id: id.nullish(), base_resp: baseResp });
export const retrieveResponseSchema = z.object({
  file: z
    .object({ download_url: z.string().min(1).nullish() })
    .passthrough()
    .nullish(),
  base_resp: baseResp,
});
export type QueryResponse = z.infer<typeof queryResponseSchema>;

/** errorForCode with the video's wording for 1027 (output filtered); the rest as the image adapter says. */
export function videoErrorForCode(code: number): ProviderError | undefined {
  if (code === 1027)
    return { kind: "policy_rejected", message: `${NAME} declined to return the generated video under its content policy.`, providerCode: String(code) };
  return errorForCode(code);
}

/**
 * Maps a query answer onto a VideoStatus, or the `file_id` to retrieve when it succeeded.
 * `Fail` carries its cause in `base_resp` (1026/1027 moderation, per Baidu's mirror of the API);
 * unknown statuses stay running (VIDEO.md §5) with `raw` kept.
 */
export function statusOf(query: QueryResponse & { status: string }): VideoStatus | { fileId: string } {
  const raw = query.status;
  switch (raw) {
    case "Preparing":
    case "Queueing":
      return { state: "queued", raw };
    case "Processing":
      return { state: "running", raw };
    case "Success":
      if (!query.file_id)
        return { state: "failed", error: { kind: "permanent", message: `${NAME} reported success without a video.`, providerCode: "no-result" }, raw };
      return { fileId: query.file_id };
    case "Fail": {
      const code = query.base_resp?.status_code ?? 0;
      const error = (code && videoErrorForCode(code)) || {
        kind: "permanent" as const,
        message: `${NAME} could not make a video from this photo.`,
        providerCode: code ? String(code) : "Fail",
      };
      return { state: "failed", error, raw };
    }
    default:
      return { state: "running", raw };
  }
}
