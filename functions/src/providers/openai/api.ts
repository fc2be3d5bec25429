/**
 * OpenAI GPT Image edit shapes (shared/providers/openai-gpt-image.md, openai-node 7.59 `images.ts`)
 * and the pure mappings: which model takes which parameter, the response's inline images, and the
 * error body's codes. No network and no SDK import here.
 */
import { z } from "zod";
import { classifyTransport, parseRetryAfterMs, ProviderHttpError } from "../http.js";
import type { ImageMime, ProviderError, ResultImage } from "../types.js";
import type { ImageFeature } from "../../domain/features.js";

export const NAME = "OpenAI";
export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/**
 * GPT Image models accepted for edits (openai 7.59.0 `ImageModel`). Shut down, with their dates and
 * replacements in catalog.ts: `gpt-image-1` (2026-10-23, replaced by `gpt-image-2.5-sunburst` /
 * `-flare`), and `gpt-image-1.5`, its `-mini` and `chatgpt-image-latest` (2026-12-01, replaced by
 * the 2.6 models).
 */
export const OPENAI_MODELS = [
  "gpt-image-2.5-sunburst",
  "gpt-image-2.5-sunburst-2026-09-08",
  "gpt-image-2.5-flare",
  "gpt-image-2.5-flare-2026-09-08",
  "gpt-image-2.6-sunburst",
  "gpt-image-2.6-flare",
  "gpt-image-2",
] as const;
export const DEFAULT_MODEL = "gpt-image-2.5-sunburst";

/** Models whose edits the SDK documents with `background: "transparent"` (gpt-image-2's is "preview"). */
export const TRANSPARENT_MODELS: ReadonlySet<string> = new Set([
  "gpt-image-2.5-sunburst",
  "gpt-image-2.5-sunburst-2026-09-08",
  "gpt-image-2.5-flare",
  "gpt-image-2.5-flare-2026-09-08",
]);

/** PNG, WebP or JPEG, each under 50 MB (HEIC is not accepted). */
export const INPUT_MIMES: ReadonlySet<ImageMime> = new Set(["image/jpeg", "image/png", "image/webp"]);
export const MAX_INPUT_BYTES = 50_000_000;

/** Only cutouts need alpha (PNG); everything else comes back as JPEG, which is far smaller. */
export function outputFor(feature: ImageFeature): { output_format: "png" | "jpeg"; background?: "transparent"; mime: ResultImage["mime"] } {
  return feature === "cutout" ? { output_format: "png", background: "transparent", mime: "image/png" } : { output_format: "jpeg", mime: "image/jpeg" };
}

/** The cutout instruction asks for transparency, which these edits deliver, instead of the shared white backdrop. */
export const PROMPT_OVERRIDES = { cutout: "Remove the background completely, leaving only the person on a fully transparent background." };

export const editResponseSchema = z.object({
  data: z.array(z.object({ b64_json: z.string().nullish() }).passthrough()).nullish(),
  output_format: z.string().nullish(),
});
export type EditResponse = z.infer<typeof editResponseSchema>;

/** The first inline image, or a permanent failure; its size is checked before decoding it. */
export function imageFrom(body: EditResponse, mime: ResultImage["mime"], maxBytes: number): ResultImage | ProviderError {
  const b64 = body.data?.find((d) => d.b64_json)?.b64_json;
  if (!b64) return { kind: "permanent", message: `${NAME} returned no image for this photo.`, providerCode: "no-image" };
  if (Math.floor((b64.length * 3) / 4) > maxBytes)
    return { kind: "permanent", message: `${NAME} returned a result larger than we accept.`, providerCode: "result-too-large" };
  return { bytes: Buffer.from(b64, "base64"), mime, width: 0, height: 0 };
}

/** What the SDK's APIError carries that we use; never its message (it may quote the prompt). */
export interface ApiErrorFields {
  status: number;
  code?: string | null;
  type?: string;
  headers?: Headers;
  requestID?: string | null;
}

const MODERATION_CODES = new Set(["moderation_blocked", "content_policy_violation"]);
const QUOTA_CODES = new Set(["insufficient_quota", "billing_hard_limit_reached", "billing_not_active"]);

/** Body-level codes first (moderation arrives as a 400, quota as a 429), then the HTTP status. */
export function errorForApiError(e: ApiErrorFields): ProviderError {
  const requestId = e.requestID ?? undefined;
  const providerCode = e.code ?? e.type ?? undefined;
  const base = { httpStatus: e.status, requestId, providerCode };
  if (e.code && MODERATION_CODES.has(e.code)) {
    return { ...base, kind: "policy_rejected", message: `${NAME} declined this photo or instruction under its content policy.` };
  }
  if (e.code && QUOTA_CODES.has(e.code)) return { ...base, kind: "quota", message: `${NAME} has no credit or quota left.` };
  const transport = classifyTransport(new ProviderHttpError(e.status, e.headers && parseRetryAfterMs(e.headers), requestId), NAME);
  return { ...transport, providerCode };
}
