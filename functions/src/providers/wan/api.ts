/**
 * Alibaba Cloud Model Studio (DashScope) shapes for Wan image editing
 * (shared/providers/alibaba-wan-image.md), the input limits, and the pure mapping of its task
 * statuses and error codes onto our outcomes and error kinds. No network here.
 */
import { z } from "zod";
import type { ImageMime, Outcome, ProviderError } from "../types.js";

export const NAME = "Alibaba Wan";

/** wan2.5-i2i-preview input limits (API reference; same figures on every mirror). */
export const INPUT_LIMITS = {
  mimes: ["image/jpeg", "image/png", "image/webp"] as readonly ImageMime[],
  maxBytes: 10 * 1024 * 1024,
  minSide: 384,
  maxSide: 5000,
  /** Longer prompts are silently truncated, which would cut off our keep-the-face instruction. */
  maxPromptChars: 2000,
};

export const submitResponseSchema = z.object({
  request_id: z.string().optional(),
  output: z.object({ task_id: z.string().min(1), task_status: z.string().optional() }),
});

export const taskResponseSchema = z.object({
  request_id: z.string().optional(),
  output: z
    .object({
      task_id: z.string().optional(),
      task_status: z.string(),
      code: z.string().optional(),
      // With n > 1 a task succeeds if any image did; failed items carry a code instead of a url.
      results: z.array(z.object({ url: z.string().url().optional(), code: z.string().optional() }).passthrough()).optional(),
    })
    .passthrough(),
});

export type TaskResponse = z.infer<typeof taskResponseSchema>;

const errorBodySchema = z.object({ code: z.string().optional(), request_id: z.string().optional() });

/**
 * The `code` of DashScope's flat error body `{ request_id, code, message }`, never its message
 * (which may quote the prompt), so classify() can tell moderation or quota from a plain 400/429.
 */
export const errorCodeOf = (body: unknown): string | undefined => errorBodySchema.safeParse(body).data?.code;

/**
 * DashScope's codes (status-code reference) onto our kinds: the single place Wan errors are
 * classified, whether the code came with an HTTP error or inside a FAILED task (HTTP 200).
 * Undefined when there is no code, so the HTTP status decides.
 */
export function errorForCode(code: string | undefined): ProviderError | undefined {
  if (!code) return undefined;
  const error = (kind: ProviderError["kind"], message: string): ProviderError => ({ kind, message, providerCode: code });
  if (code === "DataInspectionFailed") return error("policy_rejected", `${NAME} declined this photo or instruction under its content policy.`);
  if (code === "Arrearage" || code === "Throttling.AllocationQuota") return error("quota", `${NAME} has no credit or quota left.`);
  if (code === "Throttling" || code.startsWith("Throttling.") || code === "RequestTimeOut" || code.startsWith("InternalError")) {
    return error("retryable", `${NAME} is busy or unavailable; try again shortly.`);
  }
  if (code === "InvalidApiKey" || code.startsWith("AccessDenied")) return error("permanent", `${NAME} refused our credentials.`);
  return error("permanent", `${NAME} could not process this photo.`);
}

/** Maps a task (exact status spellings, SDK's SUSPENDED included) onto an outcome; unknown statuses are permanent. */
export function outcomeOf(task: TaskResponse): Outcome {
  const { task_status: status, code, results = [] } = task.output;
  switch (status) {
    case "PENDING":
    case "RUNNING":
    case "SUSPENDED":
      return { state: "running" };
    case "SUCCEEDED": {
      const urls = results.flatMap((r) => (r.url ? [r.url] : []));
      if (urls.length) return { state: "succeeded", images: urls.map((url) => ({ url, mime: "image/png" })) };
      // The output itself can be moderated: the item then carries DataInspectionFailed.
      return {
        state: "failed",
        error: errorForCode(results.find((r) => r.code)?.code) ?? permanent(`${NAME} reported success without an image.`, "no-result"),
      };
    }
    case "FAILED":
      return { state: "failed", error: errorForCode(code) ?? permanent(`${NAME} could not process this photo.`, status) };
    case "CANCELED":
      return { state: "failed", error: permanent(`${NAME} cancelled the task.`, status) };
    case "UNKNOWN": // task id invalid or older than 24 h
      return { state: "failed", error: permanent(`${NAME} no longer knows this task.`, status) };
    default:
      return { state: "failed", error: permanent(`${NAME} reported an unknown task status.`, "unknown-status") };
  }
}

const permanent = (message: string, providerCode: string): ProviderError => ({ kind: "permanent", message, providerCode });
