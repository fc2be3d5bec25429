/**
 * ByteDance Seedance image-to-video on Volcengine Ark / BytePlus ModelArk
 * (shared/providers/bytedance-seedance.md): model catalogues, input limits, task shapes and the one
 * mapping of Ark task statuses and error codes onto VideoStatus and our error kinds. Provider text
 * (`error.message`) is never kept or shown. No network here.
 */
import { z } from "zod";
import { arkCatalog, type Catalog } from "../seedream/api.js";
import type { ImageMime, ProviderError, VideoStatus } from "../types.js";
import { seedance } from "./descriptor.js";

export const NAME = "ByteDance Seedance";

/**
 * Volcengine ids; the first is the default. Seedance 2.0 rejects photos with real faces
 * (`InputImageSensitiveContentDetected.PrivacyInformation`, Ark CLI error catalogue), so the default
 * is the newest 1.x: 1.5 pro (first frame, 4–12 s). No face ban is documented for 1.x — test with
 * real photos. 2.0 stays selectable for admins; a face photo then fails with a message saying so.
 */
const VOLCENGINE_MODELS = seedance.models.map((m) => m.id); // from the descriptor, their one home

export type { Catalog };

/** BytePlus drops `doubao-` (`seedance-1-5-pro-251215`) and brands 2.0 `dreamina-seedance-2-0-…`. */
export const catalogFor = (baseUrl: string): Catalog =>
  arkCatalog(baseUrl, VOLCENGINE_MODELS, (m) => m.replace(/^doubao-seedance-2/, "dreamina-seedance-2").replace(/^doubao-/, ""));

const isSeedance2 = (model: string) => model.includes("seedance-2-");
const isSeedance15 = (model: string) => model.includes("seedance-1-5-");

/** Clip lengths per family (Ark model tables as mirrored): 1.0 2–12 s, 1.5 pro 4–12 s, 2.0 4–15 s. */
export function durationsFor(model: string): readonly number[] {
  const [min, max] = isSeedance2(model) ? [4, 15] : isSeedance15(model) ? [4, 12] : [2, 12];
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}
export const DEFAULT_DURATION = 5;

/** 1.5 and 2.0 generate sound by default; a face animation is silent (and cheaper). 1.0 has no audio. */
export const takesAudioFlag = (model: string) => isSeedance2(model) || isSeedance15(model);

/**
 * First-frame image limits (Ark parameter table as mirrored by resellers; unconfirmed on Ark's own
 * page): JPEG/PNG/WebP (also BMP/TIFF/GIF, which we never send), ≤ 30 MB, short side > 300 px,
 * long side < 6000 px, aspect 0.4–2.5.
 */
export const INPUT_LIMITS = {
  mimes: ["image/jpeg", "image/png", "image/webp"] as readonly ImageMime[],
  maxBytes: 30 * 1024 * 1024,
  minSide: 300,
  maxSide: 6000,
  minAspect: 0.4,
  maxAspect: 2.5,
};

export const startResponseSchema = z.object({ id: z.string().min(1) });

export const taskSchema = z.object({
  id: z.string().optional(),
  status: z.string(),
  error: z.object({ code: z.string().optional() }).passthrough().nullish(),
  content: z.object({ video_url: z.string().nullish() }).passthrough().nullish(),
});
export type Task = z.infer<typeof taskSchema>;

/** Maps a task (official SDK's status enum, 1:1) onto a VideoStatus; unknown values stay running with `raw` kept. */
export function statusOf(task: Task): VideoStatus {
  const raw = task.status;
  switch (raw) {
    case "queued":
      return { state: "queued", raw };
    case "running":
      return { state: "running", raw };
    case "succeeded": {
      const url = task.content?.video_url;
      if (!url) return { state: "failed", error: permanent(`${NAME} reported success without a video.`, "no-result"), raw };
      return { state: "succeeded", result: { url }, raw }; // a TOS presigned URL: no key goes with it
    }
    case "failed": {
      const code = task.error?.code;
      return { state: "failed", error: (code && errorForCode(code)) || permanent(`${NAME} could not make a video from this photo.`, code || raw), raw };
    }
    case "cancelled":
      return { state: "cancelled", error: permanent(`${NAME} cancelled the task.`, raw), raw };
    case "expired": // not in the SDK's enum; a task past `execution_expires_after` may report it (unconfirmed). Terminal either way.
      return { state: "failed", error: permanent(`${NAME} let the task expire before it ran.`, raw), raw };
    default:
      return { state: "running", raw };
  }
}

/**
 * Ark's codes that say more than the HTTP status (Ark CLI error catalogue), whether they come in a
 * non-2xx body or as a failed task's `error.code` (HTTP 200). Undefined: the HTTP status decides.
 */
export function errorForCode(code: string): ProviderError | undefined {
  const error = (kind: ProviderError["kind"], message: string): ProviderError => ({ kind, message, providerCode: code });
  // Seedance 2.0 refuses any real human face; nothing the user can change about their photo helps.
  if (code.endsWith(".PrivacyInformation")) {
    return error(
      "policy_rejected",
      `${NAME}: this model does not accept photos of real faces. An admin must choose a Seedance 1.x model (e.g. Seedance 1.5 pro) or another video provider.`,
    );
  }
  if (code.includes("SensitiveContentDetected")) {
    return code.startsWith("Output")
      ? error("policy_rejected", `${NAME} declined to return the generated video under its content policy.`)
      : error("policy_rejected", `${NAME} declined this photo or instruction under its content policy.`);
  }
  if (code === "AccountOverdueError" || code === "ServiceOverdue") return error("quota", `${NAME} has no credit or quota left.`);
  if (code === "ModelNotOpen" || code.startsWith("InvalidEndpointOrModel") || code.startsWith("OperationDenied")) {
    return error(
      "permanent",
      `${NAME}: the selected model is not activated for our account. An admin must activate it in the Ark console or choose another model.`,
    );
  }
  if (code === "InternalServiceError" || code === "ServerOverloaded") return error("retryable", `${NAME} is busy or unavailable; try again shortly.`);
  return undefined;
}

const permanent = (message: string, providerCode: string): ProviderError => ({ kind: "permanent", message, providerCode });
