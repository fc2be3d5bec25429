/**
 * PicWish API shapes (shared/providers/cutout-pro.md, picwish.com/new-*-api-doc and
 * picwish.com/states) and the pure mapping of its task states onto our outcomes. No network here.
 *
 * Every operation is `POST /api/tasks/visual/<operation>` (multipart `image_file`), polled at
 * `GET /api/tasks/visual/<operation>/<task_id>`; both answer `{ status, data: { task_id, state,
 * progress, image } }`. `state`: 1 done, 0 queued, >1 processing, <0 failed.
 */
import { z } from "zod";
import { sniffImageType } from "../../images/sniff.js";
import { kindForStatus } from "../http.js";
import { ProviderFailure, type Outcome, type ProviderError, type ProviderErrorKind, type ResultImage } from "../types.js";
import type { ImageFeature } from "../../domain/features.js";

export const NAME = "PicWish";

const MB = 1024 * 1024;
/** Result URLs and results are kept for 1 hour (stated on every PicWish API page). */
export const RESULT_TTL_MS = 60 * 60_000;

export interface PicWishModel {
  feature: ImageFeature;
  operation: string;
  /** Operation-specific form fields, as documented per operation. */
  fields: Record<string, string>;
  /** States page: -5 "image exceeds size (up to 15MB)"; scale-pro's page: 30 MB, 4096 x 4096. */
  maxInputBytes: number;
  maxSide?: number;
}

export const PICWISH_MODELS = {
  // `type` left empty: PicWish detects the foreground itself. PNG = transparent background.
  "cutout-auto": { feature: "cutout", operation: "segmentation", fields: { output_type: "2", format: "png" }, maxInputBytes: 15 * MB },
  "cutout-person": { feature: "cutout", operation: "segmentation", fields: { type: "person", output_type: "2", format: "png" }, maxInputBytes: 15 * MB },
  "cutout-face": { feature: "cutout", operation: "self-face-cutout", fields: { output_format: "png" }, maxInputBytes: 15 * MB },
  // `face` is PicWish's enhancement for portraits (up to 10 faces); `clean` is for everything else.
  // No scale_factor: PicWish picks the upscale from the input size.
  "enhance-face": { feature: "enhance", operation: "scale", fields: { type: "face" }, maxInputBytes: 15 * MB },
  "enhance-photo": { feature: "enhance", operation: "scale", fields: { type: "clean" }, maxInputBytes: 15 * MB },
  // Advanced enhancer, default Ultra HD model (5 credits a photo).
  "enhance-pro": { feature: "enhance", operation: "scale-pro", fields: {}, maxInputBytes: 30 * MB, maxSide: 4096 },
  colorize: { feature: "enhance", operation: "colorization", fields: {}, maxInputBytes: 15 * MB },
} as const satisfies Record<string, PicWishModel>;

export type PicWishModelId = keyof typeof PICWISH_MODELS;

/** `message` is the provider's text: never parsed, never shown. */
export const taskResponseSchema = z.object({
  status: z.number().int(),
  data: z
    .object({
      task_id: z.string().min(1).optional(),
      state: z.number().int().optional(),
      progress: z.number().nullish(),
      image: z.string().nullish(),
    })
    .passthrough()
    .nullish(),
});

export type TaskResponse = z.infer<typeof taskResponseSchema>;

/** Operations whose result is a cutout: it must come back with transparency. */
export const CUTOUT_OPERATIONS: ReadonlySet<string> = new Set(["segmentation", "self-face-cutout"]);

/**
 * The mime a succeeded outcome declares: "image/png" for cutouts (we asked for PNG and need the
 * alpha channel), "image/*" otherwise. fetchResult checks the downloaded bytes against it.
 */
export const expectedMime = (operation: string) => (CUTOUT_OPERATIONS.has(operation) ? "image/png" : "image/*");

/** Maps a task answer (submit or poll) onto an outcome; `status` ≠ 200 in the body is an error. */
export function outcomeOf(res: TaskResponse, operation: string, now = Date.now()): Outcome {
  if (res.status !== 200) return { state: "failed", error: errorForStatus(res.status) };
  const state = res.data?.state;
  if (state === 1) {
    const url = res.data?.image;
    if (!url || !/^https?:\/\//i.test(url)) return failed("retryable", `${NAME} reported success without an image.`, "no-result");
    return { state: "succeeded", images: [{ url, mime: expectedMime(operation), expiresAt: now + RESULT_TTL_MS }] };
  }
  if (state !== undefined && state < 0) return { state: "failed", error: errorForState(state) };
  // 0 queued, 2 preparing, 3 waiting, 4 processing (and any other positive: "greater than 1 means processing").
  const progress = res.data?.progress;
  return { state: "running", ...(progress != null && { progress: Math.round(progress) }) };
}

/** Task states from picwish.com/states; our messages only. */
export function errorForState(state: number): ProviderError {
  const providerCode = `state-${state}`;
  switch (state) {
    case -10: // internal review found prohibited content
    case -16: // third-party review found prohibited content
      return { kind: "policy_rejected", message: `${NAME} declined this photo under its content policy.`, providerCode };
    case -5:
      return { kind: "permanent", message: `This photo is larger than ${NAME} accepts.`, providerCode };
    case -3: // could not download the source (we upload, so unexpected)
    case -7:
      return { kind: "permanent", message: `${NAME} could not read this photo.`, providerCode };
    case -11: // empty result
    case -14: // the image content does not meet the requirements (e.g. no face to cut out)
      return { kind: "permanent", message: `${NAME} found nothing in this photo it can process.`, providerCode };
    case -1: // task failed
    case -2: // result upload to storage failed
    case -8: // processing timeout (30 s)
    case -9: // internal program failure
    case -13: // cancelled after an exception
    case -15: // insufficient resources
      return { kind: "retryable", message: `${NAME} failed to process the photo; try again.`, providerCode };
    default:
      return { kind: "permanent", message: `${NAME} reported an unknown task state.`, providerCode: "unknown-state" };
  }
}

/** A `status` reported in a 200 body: the HTTP status table of picwish.com/states applies. */
function errorForStatus(status: number): ProviderError {
  const kind = kindForStatus(status);
  const message =
    kind === "quota"
      ? `${NAME} has no credit or quota left.`
      : kind === "retryable"
        ? `${NAME} is busy or unavailable; try again shortly.`
        : status === 401
          ? `${NAME} refused our credentials.`
          : `${NAME} could not process this photo.`;
  return { kind, message, providerCode: `status-${status}` };
}

const failed = (kind: ProviderErrorKind, message: string, providerCode: string): Outcome => ({ state: "failed", error: { kind, message, providerCode } });

/**
 * Types downloaded bytes by their magic number. A cutout ("image/png" expected) must keep its
 * transparency, so only PNG or WebP will do. Bytes that are no image at all are left for the
 * job's own check to refuse.
 */
export function typedResult(bytes: Uint8Array, expected: string): ResultImage {
  const sniffed = sniffImageType(bytes);
  if (expected === "image/png" && sniffed && sniffed !== "image/png" && sniffed !== "image/webp") {
    throw new ProviderFailure({ kind: "retryable", message: `${NAME} returned a cutout without transparency.`, providerCode: "cutout-not-transparent" });
  }
  const mime = sniffed === "image/jpeg" || sniffed === "image/webp" ? sniffed : "image/png";
  return { bytes, mime, width: 0, height: 0 };
}

const EXTENSIONS: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };

/** File name for the multipart part; HEIC/HEIF are not among the formats PicWish lists. */
export const uploadName = (mime: string): string | undefined => (EXTENSIONS[mime] ? `photo.${EXTENSIONS[mime]}` : undefined);
