/**
 * Cutout.Pro API shapes (shared/providers/cutout-pro.md) and pure mappings. No network here.
 *
 * Every operation we use is the same synchronous endpoint, `POST /api/v1/matting2?mattingType=N`,
 * multipart `file`, answering `{ code, data: { imageBase64 }, msg, time }`. The mattingType per
 * operation is from Cutout.Pro's own Java SDK (cutout-pro/cutout-java-sdk-core): 6 remove
 * background, 3 face cutout, 18 photo enhancer, 19 photo colorizer; 1 (portrait) from its Python
 * samples, which also recommend 6 as the general default.
 */
import { z } from "zod";
import { sniffImageType } from "../../images/sniff.js";
import { ProviderFailure, type FinishedOutcome, type ProviderError, type ResultImage } from "../types.js";
import type { ImageFeature } from "../../domain/features.js";

export const NAME = "Cutout.Pro";

const MB = 1024 * 1024;

export interface CutoutProModel {
  feature: ImageFeature;
  mattingType: number;
  /** Input cap per a third-party copy of the docs (unconfirmed): 25 MB for matting, 15 MB otherwise. */
  maxInputBytes: number;
}

export const CUTOUT_PRO_MODELS = {
  "cutout-general": { feature: "cutout", mattingType: 6, maxInputBytes: 25 * MB },
  "cutout-portrait": { feature: "cutout", mattingType: 1, maxInputBytes: 25 * MB },
  "cutout-face": { feature: "cutout", mattingType: 3, maxInputBytes: 25 * MB },
  "enhance-photo": { feature: "enhance", mattingType: 18, maxInputBytes: 15 * MB },
  colorize: { feature: "enhance", mattingType: 19, maxInputBytes: 15 * MB },
} as const satisfies Record<string, CutoutProModel>;

export type CutoutProModelId = keyof typeof CUTOUT_PRO_MODELS;

/** `msg` is the provider's text: never parsed, never shown. */
export const mattingResponseSchema = z.object({
  code: z.number().int(),
  data: z
    .object({ imageBase64: z.string().min(1) })
    .passthrough()
    .nullish(),
});

export type MattingResponse = z.infer<typeof mattingResponseSchema>;

/**
 * Body-level codes (HTTP 200). Numbers from a third-party copy of the docs, unconfirmed:
 * 1001 balance, 1002 key, 1003 format, 1004 resolution, 1005 file size. Any other code is permanent.
 */
export function errorForCode(code: number): ProviderError {
  const providerCode = String(code);
  switch (code) {
    case 1001:
      return { kind: "quota", message: `${NAME} has no credit left.`, providerCode };
    case 1002:
      return { kind: "permanent", message: `${NAME} refused our credentials.`, providerCode };
    case 1003:
    case 1004:
    case 1005:
      return { kind: "permanent", message: `${NAME} cannot process a photo of this format or size.`, providerCode };
    default:
      return { kind: "permanent", message: `${NAME} could not process this photo.`, providerCode };
  }
}

/** Maps a matting2 answer onto an outcome; the base64 image is decoded, capped and typed here. */
export function outcomeOf(body: MattingResponse, feature: ImageFeature, maxBytes: number): FinishedOutcome {
  if (body.code !== 0) return { state: "failed", error: errorForCode(body.code) };
  const base64 = body.data?.imageBase64;
  if (!base64) throw new ProviderFailure({ kind: "retryable", message: `${NAME} reported success without an image.`, providerCode: "no-result" });
  if (Math.floor((base64.length * 3) / 4) > maxBytes) throw tooLarge();
  return { state: "succeeded", images: [typedResult(Buffer.from(base64, "base64"), feature)] };
}

/**
 * Types the bytes by their magic number. A cutout must keep its transparency, so only PNG or WebP
 * will do. Bytes that are no image at all are left for the job's own check to refuse.
 */
export function typedResult(bytes: Uint8Array, feature: ImageFeature): ResultImage {
  const sniffed = sniffImageType(bytes);
  if (feature === "cutout" && sniffed && sniffed !== "image/png" && sniffed !== "image/webp") {
    throw new ProviderFailure({ kind: "retryable", message: `${NAME} returned a cutout without transparency.`, providerCode: "cutout-not-transparent" });
  }
  const mime = sniffed === "image/jpeg" || sniffed === "image/webp" ? sniffed : "image/png";
  return { bytes, mime, width: 0, height: 0 };
}

const tooLarge = () =>
  new ProviderFailure({ kind: "permanent", message: `${NAME} returned a result larger than we accept.`, providerCode: "result-too-large" });

const EXTENSIONS: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };

/** File name for the multipart part; HEIC/HEIF are not among the formats Cutout.Pro lists. */
export const uploadName = (mime: string): string | undefined => (EXTENSIONS[mime] ? `photo.${EXTENSIONS[mime]}` : undefined);
