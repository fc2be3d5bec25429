/**
 * Kling image-generation shapes (shared/providers/kling-image.md), input limits, and the pure
 * mapping of its task statuses and service codes onto our outcomes and error kinds. No network here.
 */
import { z } from "zod";
import type { ImageMime, Outcome, ProviderError } from "../types.js";

export const NAME = "Kling AI";

/** Documented for `image`: jpg/jpeg/png, ≤ 10 MB, each side ≥ 300 px, aspect 1:2.5 to 2.5:1. */
export const INPUT_LIMITS = {
  mimes: ["image/jpeg", "image/png"] as readonly ImageMime[],
  maxBytes: 10 * 1024 * 1024,
  minSide: 300,
  maxAspect: 2.5,
  maxPromptChars: 2500,
};

export const ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9"] as const;

/** The supported `aspect_ratio` closest to the photo's, so the person is framed as they were. */
export function nearestAspectRatio(width: number, height: number): (typeof ASPECT_RATIOS)[number] {
  const distance = (ratio: string) => {
    const [w, h] = ratio.split(":").map(Number) as [number, number];
    return Math.abs(Math.log(width / height) - Math.log(w / h));
  };
  return ASPECT_RATIOS.reduce((best, ratio) => (distance(ratio) < distance(best) ? ratio : best));
}

const envelope = { code: z.number(), request_id: z.string().optional() };

export const submitResponseSchema = z.object({
  ...envelope,
  data: z.object({ task_id: z.string().min(1), task_status: z.string().optional() }).nullish(),
});

export const taskResponseSchema = z.object({
  ...envelope,
  data: z
    .object({
      task_id: z.string().optional(),
      task_status: z.string(),
      task_status_msg: z.string().nullish(),
      task_result: z
        .object({ images: z.array(z.object({ url: z.string().url() }).passthrough()).nullish() })
        .passthrough()
        .nullish(),
    })
    .nullish(),
});

export type Task = NonNullable<z.infer<typeof taskResponseSchema>["data"]>;

const errorBodySchema = z.object({ code: z.number().optional(), request_id: z.string().optional() });

/**
 * The service `code` of Kling's error body `{ code, message, request_id }`, never its message
 * (which may quote the prompt), so classify() can tell billing from rate limits (both HTTP 429).
 */
export const errorCodeOf = (body: unknown): number | undefined => errorBodySchema.safeParse(body).data?.code;

/** 1003 "not yet valid" and 1004 "expired": worth one retry with a freshly signed token. */
export const isTokenRejected = (code: number | undefined) => code === 1003 || code === 1004;

/**
 * Kling's service codes (official "General Information" table) onto our kinds: the single place
 * Kling errors are classified. 429 carries both rate limits and billing, so the code decides.
 * Undefined for an unlisted code, so the HTTP status decides.
 */
export function errorForCode(code: number): ProviderError | undefined {
  const error = (kind: ProviderError["kind"], message: string): ProviderError => ({ kind, message, providerCode: String(code) });
  if (isTokenRejected(code)) return error("retryable", `${NAME} did not accept our token in time; try again shortly.`);
  if (code >= 1000 && code <= 1002) return error("permanent", `${NAME} refused our credentials.`);
  if (code === 1101 || code === 1102) return error("quota", `${NAME} has no credit or quota left.`);
  if (code === 1100 || code === 1103 || code === 1304) return error("permanent", `${NAME} refused our account or server.`);
  if (code >= 1200 && code <= 1203) return error("permanent", `${NAME} could not process this photo.`);
  if (code === 1300 || code === 1301) return error("policy_rejected", `${NAME} declined this photo or instruction under its content policy.`);
  if (code === 1302 || code === 1303 || (code >= 5000 && code <= 5002)) return error("retryable", `${NAME} is busy or unavailable; try again shortly.`);
  return undefined;
}

// Kling gives a failed task's reason only as free text (`task_status_msg`): it is matched, never kept.
const POLICY_WORDING = /risk|polic|sensitive|moderat|violat|inappropriate|prohibit|secur|audit|违规|敏感|审核|风控/i;

/** Maps a task (exact spellings: `succeed`, not `succeeded`) onto an outcome; unknown statuses are permanent. */
export function outcomeOf(task: Task): Outcome {
  switch (task.task_status) {
    case "submitted":
    case "processing":
      return { state: "running" };
    case "succeed": {
      const images = task.task_result?.images ?? [];
      if (!images.length) return failed("permanent", `${NAME} reported success without an image.`, "no-result");
      return { state: "succeeded", images: images.map(({ url }) => ({ url, mime: "image/png" })) };
    }
    case "failed":
      return POLICY_WORDING.test(task.task_status_msg ?? "")
        ? failed("policy_rejected", `${NAME} declined this photo or instruction under its content policy.`, "failed")
        : failed("permanent", `${NAME} could not process this photo.`, "failed");
    default:
      return failed("permanent", `${NAME} reported an unknown task status.`, "unknown-status");
  }
}

const failed = (kind: ProviderError["kind"], message: string, providerCode: string): Outcome => ({ state: "failed", error: { kind, message, providerCode } });
