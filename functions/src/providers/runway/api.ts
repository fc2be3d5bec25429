/**
 * Runway API shapes (shared/providers/runway.md), input limits, and the pure mapping of its task
 * statuses and failure codes onto VideoStatus and our error kinds. Provider text (`failure`, the
 * 400 `error` string) is never kept or shown. No network here.
 */
import { z } from "zod";
import type { ImageMime, ProviderError, VideoStatus } from "../types.js";

export const NAME = "Runway";

/** Required on every call; the SDK's default `runwayVersion`. */
export const RUNWAY_VERSION = "2024-11-06";

/**
 * Runway's own image-to-video models (SDK 4.12.0 types). gen4.5 is the newest and the default;
 * gen4_turbo is cheaper and faster (5 vs 12 credits/s per Runway's skills repo). The resold
 * third-party models (veo3.1, seedance2, …) take other ratios and are not offered here.
 */
export const RUNWAY_MODELS = ["gen4.5", "gen4_turbo"] as const;
export const DEFAULT_MODEL = "gen4.5";

/**
 * Both take an integer 2–10 s (gen4.5 requires it). The "5 or 10" seen for gen4_turbo in
 * third-party pages was gen3a_turbo's limit: the SDK types gen3a_turbo as `5 | 10` and gen4_turbo
 * as a plain number, and the API accepts 2–10 for it.
 */
const TWO_TO_TEN = [2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
export const DURATIONS: Record<string, readonly number[]> = { "gen4.5": TWO_TO_TEN, gen4_turbo: TWO_TO_TEN };
export const DEFAULT_DURATION = 5;

/** Output sizes both models take; the photo's nearest one keeps the face framed as it was. */
export const RATIOS = ["1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"] as const;

export function nearestRatio(width: number, height: number): (typeof RATIOS)[number] {
  if (!(width > 0 && height > 0)) return "960:960";
  const distance = (ratio: string) => {
    const [w, h] = ratio.split(":").map(Number) as [number, number];
    return Math.abs(Math.log(width / height) - Math.log(w / h));
  };
  return RATIOS.reduce((best, ratio) => (distance(ratio) < distance(best) ? ratio : best));
}

export const INPUT_LIMITS = {
  /** JPEG, PNG, WebP (no GIF, no HEIC). */
  mimes: ["image/jpeg", "image/png", "image/webp"] as readonly ImageMime[],
  /** docs "Inputs": the encoded data URI must be under 5 MB (1024 × 1024 × 5 bytes), i.e. photos up to ~3.7 MB. */
  maxDataUriChars: 5 * 1024 * 1024,
  /** gen4.5 `promptText`: ≤ 1000 UTF-16 units. */
  maxPromptChars: 1000,
};

export const startResponseSchema = z.object({ id: z.string().min(1) });

export const taskSchema = z.object({
  id: z.string().optional(),
  status: z.string(),
  progress: z.number().nullish(),
  output: z.array(z.string()).nullish(),
  failureCode: z.string().nullish(),
});
export type Task = z.infer<typeof taskSchema>;

/** Maps a task onto a VideoStatus; unknown statuses stay running (VIDEO.md §5) with `raw` kept. */
export function statusOf(task: Task): VideoStatus {
  const raw = task.status;
  switch (raw) {
    case "PENDING":
    case "THROTTLED": // over our tier's concurrency: queued by Runway, not refused
      return { state: "queued", raw };
    case "RUNNING":
      return { state: "running", raw, ...(task.progress != null && { progress: Math.round(Math.min(1, Math.max(0, task.progress)) * 100) }) };
    case "SUCCEEDED": {
      const url = task.output?.[0];
      if (!url) return { state: "failed", error: { kind: "permanent", message: `${NAME} reported success without a video.`, providerCode: "no-result" }, raw };
      return { state: "succeeded", result: { url }, raw };
    }
    case "FAILED":
      return { state: "failed", error: errorForFailure(task.failureCode ?? undefined), raw };
    case "CANCELLED":
      return { state: "cancelled", error: { kind: "permanent", message: `${NAME} cancelled the task.`, providerCode: raw }, raw };
    default:
      return { state: "running", raw };
  }
}

/** A FAILED task's `failureCode` (docs "Handle Task Failures"): SAFETY.* never retried, INTERNAL.* retryable. */
export function errorForFailure(code: string | undefined): ProviderError {
  const providerCode = code ?? "FAILED";
  if (code?.startsWith("SAFETY.INPUT"))
    return { kind: "policy_rejected", message: `${NAME} declined this photo or instruction under its content policy.`, providerCode };
  if (code?.startsWith("SAFETY"))
    return { kind: "policy_rejected", message: `${NAME} declined to return the generated video under its content policy.`, providerCode };
  if (code === "INTERNAL" || code?.startsWith("INTERNAL."))
    return { kind: "retryable", message: `${NAME} failed to generate the video; try again.`, providerCode };
  if (code?.startsWith("ASSET")) return { kind: "permanent", message: `${NAME} could not use this photo.`, providerCode };
  return { kind: "permanent", message: `${NAME} could not make a video from this photo.`, providerCode };
}

const errorBodySchema = z.object({ error: z.string() });

/**
 * http.ts `errorCode` extractor. Runway's 4xx body is `{ error: "<human text>" }` with no code;
 * the only case worth telling apart is an account without credits (a 400 saying "You do not have
 * enough credits", runwayml/sdk-node#28), which is a quota problem, not a bad photo.
 */
export function errorCodeOf(body: unknown): string | undefined {
  const text = errorBodySchema.safeParse(body).data?.error;
  return text && /enough credits|insufficient credits/i.test(text) ? "INSUFFICIENT_CREDITS" : undefined;
}

export function errorForCode(code: string): ProviderError | undefined {
  if (code === "INSUFFICIENT_CREDITS") return { kind: "quota", message: `${NAME} has no credit left.`, providerCode: code };
  return undefined;
}
