/**
 * MiniMax image-01 with `subject_reference` (shared/providers/minimax-image.md): response shape,
 * aspect-ratio choice, and the one mapping of `base_resp.status_code` onto our error kinds.
 * No network here.
 */
import { z } from "zod";
import { sniffedResult } from "../download.js";
import type { FinishedOutcome, ProviderError } from "../types.js";

export const NAME = "MiniMax";

/** International host (official guide); mainland China keys use https://api.minimaxi.com. */
export const DEFAULT_BASE_URL = "https://api.minimax.io";

/** `image-01` first: the default, and the only one with every aspect ratio. */
export const MINIMAX_MODELS = ["image-01", "image-01-live"] as const;

/** Subject reference: JPG/JPEG/PNG under 10 MB (mirror of the official reference). */
export const INPUT_MIMES: readonly string[] = ["image/jpeg", "image/png"];
export const MAX_INPUT_BYTES = 10_000_000;

const RATIOS: readonly [string, number][] = [
  ["1:1", 1],
  ["16:9", 16 / 9],
  ["4:3", 4 / 3],
  ["3:2", 3 / 2],
  ["2:3", 2 / 3],
  ["3:4", 3 / 4],
  ["9:16", 9 / 16],
  ["21:9", 21 / 9], // image-01 only
];

/** The supported aspect ratio closest to the photo's, so the portrait keeps its framing. */
export function aspectRatioFor(width: number, height: number, model: string): string {
  if (!(width > 0 && height > 0)) return "1:1";
  const target = Math.log(width / height);
  const choices = RATIOS.filter(([name]) => model === "image-01" || name !== "21:9");
  return choices.reduce((best, r) => (Math.abs(Math.log(r[1]) - target) < Math.abs(Math.log(best[1]) - target) ? r : best))[0];
}

const count = z.union([z.string(), z.number()]).nullish();

export const generationResponseSchema = z
  .object({
    data: z
      .object({
        image_base64: z.array(z.string().min(1)).nullish(),
        image_urls: z.array(z.string().url()).nullish(),
        failed_count: count, // the official CLI reads the counts here, mirrors under `metadata`
      })
      .passthrough()
      .nullish(),
    metadata: z.object({ failed_count: count }).passthrough().nullish(),
    base_resp: z.object({ status_code: z.number().int() }).passthrough().nullish(),
  })
  .passthrough();

export type GenerationResponse = z.infer<typeof generationResponseSchema>;

/** Business errors arrive as HTTP 200 with `base_resp.status_code != 0`: check the body first. */
export function outcomeOf(response: GenerationResponse): FinishedOutcome {
  const code = response.base_resp?.status_code ?? 0;
  if (code !== 0)
    return { state: "failed", error: errorForCode(code) ?? { kind: "permanent", message: `${NAME} reported an unknown status.`, providerCode: String(code) } };
  const b64 = response.data?.image_base64 ?? [];
  if (b64.length) return { state: "succeeded", images: b64.map((v) => sniffedResult(Buffer.from(v, "base64"))) };
  const urls = response.data?.image_urls ?? [];
  if (urls.length) return { state: "succeeded", images: urls.map((url) => ({ url, mime: "image/jpeg" })) };
  // Success with every image counted as failed: the output was filtered (semantics unconfirmed).
  if (Number(response.data?.failed_count ?? response.metadata?.failed_count ?? 0) > 0) {
    return {
      state: "failed",
      error: { kind: "policy_rejected", message: `${NAME} declined to return the generated image under its content policy.`, providerCode: "output-filtered" },
    };
  }
  return { state: "failed", error: { kind: "permanent", message: `${NAME} reported success without an image.`, providerCode: "no-result" } };
}

const RETRYABLE = new Set([1000, 1001, 1002, 1024, 1033, 1041]); // unknown, timeout, rate limit, internal, system, conn limit
const QUOTA = new Set([1008, 1028, 1030]); // insufficient balance; Token Plan quota exhausted
const POLICY = new Set([1026, 1027]); // input / output content sensitive

/**
 * Official error table (platform.minimax.io/docs/api-reference/errorcode; 1026/1027 from the
 * Chinese edition). 1002 is a rate limit per that table, although MiniMax's CLI treats it as a
 * content filter. Unknown codes: undefined, so the caller decides (HTTP status or permanent).
 */
export function errorForCode(code: number): ProviderError | undefined {
  const providerCode = String(code);
  if (RETRYABLE.has(code)) return { kind: "retryable", message: `${NAME} is busy or unavailable; try again shortly.`, providerCode };
  if (QUOTA.has(code)) return { kind: "quota", message: `${NAME} has no credit or quota left.`, providerCode };
  if (POLICY.has(code)) {
    const message =
      code === 1027
        ? `${NAME} declined to return the generated image under its content policy.`
        : `${NAME} declined this photo or instruction under its content policy.`;
    return { kind: "policy_rejected", message, providerCode };
  }
  if (code === 1004) return { kind: "permanent", message: `${NAME} refused our credentials.`, providerCode };
  if (code === 2013 || code === 1039 || code === 2061) return { kind: "permanent", message: `${NAME} could not process this photo.`, providerCode };
  return undefined;
}

const errorEnvelope = z.object({
  base_resp: z.object({ status_code: z.number().int() }).passthrough().nullish(),
  error: z
    .object({ code: z.union([z.number().int(), z.string().regex(/^\d{1,6}$/)]).nullish() })
    .passthrough()
    .nullish(),
});

/** The status code in a non-2xx body (`base_resp` or the v2 `error` envelope); messages are not kept. */
export function errorCodeOf(body: unknown): number | undefined {
  const parsed = errorEnvelope.safeParse(body).data;
  const code = parsed?.base_resp?.status_code || parsed?.error?.code;
  return code ? Number(code) : undefined;
}
