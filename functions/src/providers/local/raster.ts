/**
 * Decoding, raw-pixel pipelines and encoding for the local provider.
 *
 * sharp applies the operations of one pipeline in its own fixed order, not in call order, so an
 * effect that needs "A then B" runs as separate steps, each a sharp pass over raw pixels.
 */
import sharp, { type Sharp } from "sharp";
import { AppError } from "../../errors.js";
import type { ImageMime, ResultImage } from "../types.js";

/** Decoded pixels: 8-bit, interleaved, sRGB (3 channels) or greyscale (1); RGBA only transiently. */
export interface Raster {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export type Step = (image: Raster) => Promise<Raster>;

export const DEFAULT_MAX_PIXELS = 40_000_000;

// libvips' operation cache would keep decoded faces in memory after the job ends; turn it off.
sharp.cache(false);

/**
 * Decodes untrusted bytes: capped pixels (the header check already ran, this is the decoder's own
 * guard), truncated data refused, EXIF orientation applied, transparency flattened onto white.
 * Metadata never survives: we only carry raw pixels onwards.
 */
export async function decode(bytes: Uint8Array, mime: ImageMime, maxPixels = DEFAULT_MAX_PIXELS): Promise<Raster> {
  try {
    const pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: "truncated" })
      .rotate()
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb");
    return await toRaster(pipeline);
  } catch (error) {
    throw decodeError(error, mime);
  }
}

/** A photo sharp could not decode, as the caller's error: too many pixels, HEIC without its codec, or corrupt. */
export function decodeError(error: unknown, mime: ImageMime): AppError {
  const message = error instanceof Error ? error.message : "";
  if (/pixel limit/i.test(message)) {
    return new AppError("invalid-argument", "image has too many pixels for the local provider", "image-too-many-pixels");
  }
  if (mime === "image/heic" || mime === "image/heif") {
    // sharp's prebuilt libvips reads AVIF-coded HEIF only; HEVC (what phones write) is not built in.
    // Unreachable through createJob, which converts HEIC/HEIF to JPEG at ingest (images/convertHeif.ts).
    return new AppError(
      "failed-precondition",
      "image: the local provider cannot decode HEIC/HEIF photos; send JPEG, PNG or WebP",
      "local-heic-unsupported",
    );
  }
  return new AppError("invalid-argument", "image could not be decoded (corrupt or truncated)", "image-undecodable");
}

export function fromRaster(image: Raster): Sharp {
  const { width, height, channels } = image;
  return sharp(image.data, { raw: { width, height, channels } });
}

export async function toRaster(pipeline: Sharp): Promise<Raster> {
  const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** A step made of sharp operations whose relative order does not matter (usually just one). */
export const sharpStep =
  (op: (image: Sharp, raster: Raster) => Sharp): Step =>
  (image) =>
    toRaster(op(fromRaster(image), image));

/** A per-channel lookup table over the colour channels (sharp has no LUT operation). */
export const lutStep =
  (table: (value: number, channel: number) => number): Step =>
  async (image) => {
    const colour = image.channels === 2 || image.channels === 4 ? image.channels - 1 : image.channels;
    const tables = Array.from({ length: colour }, (_, c) =>
      Uint8Array.from({ length: 256 }, (_, v) => Math.max(0, Math.min(255, Math.round(table(v, c))))),
    );
    const out = Buffer.from(image.data);
    for (let i = 0; i < out.length; i++) {
      const c = i % image.channels;
      if (c < colour) out[i] = tables[c]![out[i]!]!;
    }
    return { ...image, data: out };
  };

export async function runSteps(image: Raster, steps: readonly Step[], signal?: AbortSignal): Promise<Raster> {
  let current = image;
  for (const step of steps) {
    signal?.throwIfAborted();
    current = await step(current);
  }
  return current;
}

/** Baseline JPEG, no metadata (sharp strips it unless asked), mozjpeg off for speed. */
export async function encodeJpeg(image: Raster): Promise<ResultImage> {
  const { data, info } = await fromRaster(image).jpeg({ quality: 90, mozjpeg: false }).toBuffer({ resolveWithObject: true });
  return { bytes: data, mime: "image/jpeg", width: info.width, height: info.height };
}

export async function encodePng(image: Raster): Promise<ResultImage> {
  const { data, info } = await fromRaster(image).png().toBuffer({ resolveWithObject: true });
  return { bytes: data, mime: "image/png", width: info.width, height: info.height };
}
