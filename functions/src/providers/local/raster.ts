/**
 * Decoding, the sharp pipelines that run a plan (plan.ts), and encoding for the local provider.
 *
 * Memory (ARCHITECTURE §10): a pass streams the photo from its encoded bytes to the encoded result
 * in strips, so it holds a few rows, not the picture. The whole picture exists as raw pixels only
 * where the plan needs it: between two passes, in a lookup-table pass, in the 1-byte-a-pixel luma
 * histogram of normalise, or where libvips itself needs random access (EXIF rotation by 90°).
 * JPEG output is baseline without optimised Huffman tables: optimising them keeps every coefficient
 * of the image in memory until the end; same pixels, a slightly larger file.
 */
import sharp, { type Sharp } from "sharp";
import { AppError } from "../../errors.js";
import type { ImageMime, ResultImage } from "../types.js";
import { affine, compose, composeAll, IDENTITY, type Affine, type Pass, type SpatialOps } from "./plan.js";

/** Decoded pixels: 8-bit, interleaved, sRGB (3 channels) or greyscale (1); RGBA only transiently. */
export interface Raster {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * The photo a plan starts from: its encoded bytes, read by the first pass, or (for inputs the
 * passes cannot stream as 8-bit sRGB: 16-bit, CMYK) its pixels decoded up front. Width and height
 * are as displayed (EXIF rotation applied).
 */
export type Source =
  | { kind: "encoded"; bytes: Uint8Array; mime: ImageMime; maxPixels: number; width: number; height: number }
  | { kind: "raw"; raster: Raster; width: number; height: number };

export const DEFAULT_MAX_PIXELS = 40_000_000;

// libvips' operation cache would keep decoded faces in memory after the job ends; turn it off.
sharp.cache(false);

const JPEG_OUTPUT = { quality: 90, mozjpeg: false, optimiseCoding: false } as const;

/** Reads the header (nothing is decoded) and decides how the photo will be read. */
export async function openSource(bytes: Uint8Array, mime: ImageMime, maxPixels = DEFAULT_MAX_PIXELS): Promise<Source> {
  const meta = await sharp(bytes)
    .metadata()
    .catch((error: unknown) => Promise.reject(decodeError(error, mime)));
  const { width, height } = meta.autoOrient;
  if (meta.depth === "uchar" && (meta.space === "srgb" || meta.space === "b-w")) {
    return { kind: "encoded", bytes, mime, maxPixels, width, height };
  }
  const raster = await decode(bytes, mime, maxPixels);
  return { kind: "raw", raster, width: raster.width, height: raster.height };
}

/**
 * Untrusted bytes as a pipeline: capped pixels (the header check already ran, this is the
 * decoder's own guard), truncated data refused, read top to bottom as the pipeline needs it, EXIF
 * orientation applied, transparency flattened onto white. Metadata never survives: sharp writes
 * none unless asked.
 */
function readEncoded(bytes: Uint8Array, maxPixels: number): Sharp {
  return sharp(bytes, { limitInputPixels: maxPixels, failOn: "truncated", sequentialRead: true }).rotate().flatten({ background: "#ffffff" });
}

function read(source: Source): Sharp {
  return source.kind === "raw" ? fromRaster(source.raster) : readEncoded(source.bytes, source.maxPixels);
}

/** Failures while the encoded photo is being read are the photo's (corrupt, too many pixels). */
async function reading<T>(source: Source, work: Promise<T>): Promise<T> {
  return source.kind === "encoded" ? work.catch((error: unknown) => Promise.reject(decodeError(error, source.mime))) : work;
}

/** The whole photo as 8-bit sRGB pixels. */
export async function decode(bytes: Uint8Array, mime: ImageMime, maxPixels = DEFAULT_MAX_PIXELS): Promise<Raster> {
  try {
    return await toRaster(readEncoded(bytes, maxPixels).toColourspace("srgb"));
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
    return new AppError("failed-precondition", "image: the local provider cannot decode HEIC/HEIF photos; send JPEG, PNG or WebP", "local-heic-unsupported");
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

// ---------------------------------------------------------------- running a plan

function withSpatial(image: Sharp, ops: SpatialOps, source: Source): Sharp {
  if (ops.upscale2x) image = image.resize(source.width * 2, source.height * 2, { kernel: "lanczos3", fit: "fill" });
  if (ops.median !== undefined) image = image.median(ops.median);
  if (ops.convolve) {
    const { width, height, values } = ops.convolve;
    image = image.convolve({ width, height, kernel: [...values], scale: 1 });
  }
  return image;
}

/** As few sharp operations as the affine needs; recomb also makes a greyscale input RGB. */
function withAffine(image: Sharp, { matrix, offset }: Affine): Sharp {
  const gain = matrix[0][0];
  const scalar = matrix.every((row, r) => row.every((v, c) => v === (r === c ? gain : 0)));
  if (scalar && offset[1] === offset[0] && offset[2] === offset[0]) {
    return gain === 1 && offset[0] === 0 ? image : image.linear(gain, offset[0]);
  }
  image = image.recomb(matrix);
  return offset.some((v) => v !== 0) ? image.linear([1, 1, 1], [...offset]) : image;
}

const LUMA_256 = [77 / 256, 150 / 256, 29 / 256] as [number, number, number];

/**
 * Normalise's stretch (auto-levels): luma's 1st..99th percentiles onto 0..255, the same gain on
 * every channel. Luma is (77 R + 150 G + 29 B) >> 8 of the values normalise receives: computed over
 * the raster when a pass starts with it, else by a pipeline that stops there and keeps one channel.
 */
async function normaliseStretch(source: Source, before: SpatialOps, prefix: Affine): Promise<Affine> {
  const histogram = new Uint32Array(256);
  const plain = !before.upscale2x && before.median === undefined && !before.convolve && isIdentity(prefix);
  if (source.kind === "raw" && plain && source.raster.channels >= 3) {
    const { data, channels } = source.raster;
    for (let i = 0; i + 2 < data.length; i += channels) histogram[(data[i]! * 77 + data[i + 1]! * 150 + data[i + 2]! * 29) >> 8]!++;
  } else {
    // Exact for an empty or greyscale prefix (the weights are multiples of 1/256); else within rounding.
    const luma = compose(prefix, affine([LUMA_256, LUMA_256, LUMA_256]));
    const pipeline = withAffine(withSpatial(read(source), before, source), luma).extractChannel(0);
    const luminance = await reading(source, pipeline.raw({ depth: "uchar" }).toBuffer());
    for (let i = 0; i < luminance.length; i++) histogram[luminance[i]!]!++;
  }
  const total = histogram.reduce((n, v) => n + v, 0);
  const percentile = (p: number) => {
    let seen = 0;
    for (let v = 0; v < 256; v++) if ((seen += histogram[v]!) >= total * p) return v;
    return 255;
  };
  const low = percentile(0.01);
  const high = percentile(0.99);
  if (high - low < 8) return affine(IDENTITY); // flat image: stretching would only amplify noise
  const gain = 255 / (high - low);
  return affine(
    [
      [gain, 0, 0],
      [0, gain, 0],
      [0, 0, gain],
    ],
    [-low * gain, -low * gain, -low * gain],
  );
}

const isIdentity = (a: Affine) => a.offset.every((v) => v === 0) && a.matrix.every((row, r) => row.every((v, c) => v === IDENTITY[r]![c]));

/** The pass's colour chain as one affine, normalise resolved against this source. */
async function chainAffine(source: Source, pass: Pass): Promise<Affine> {
  let done = composeAll([]);
  for (const op of pass.chain) {
    done = compose(done, op.kind === "affine" ? op : await normaliseStretch(source, op.before ?? {}, done));
  }
  return done;
}

/**
 * Runs the passes and encodes the result as a JPEG: baseline, no metadata (sharp strips it unless
 * asked), mozjpeg off for speed.
 */
export function runPasses(source: Source, passes: readonly Pass[], signal?: AbortSignal): Promise<ResultImage> {
  return run(source, passes, encodeJpeg, signal);
}

/** The same, ending in raw pixels (tests compare plans with it). */
export function runPassesToRaster(source: Source, passes: readonly Pass[], signal?: AbortSignal): Promise<Raster> {
  return run(source, passes, toRaster, signal);
}

async function run<T>(source: Source, passes: readonly Pass[], finish: (image: Sharp) => Promise<T>, signal?: AbortSignal): Promise<T> {
  let input = source;
  for (const [i, pass] of passes.entries()) {
    signal?.throwIfAborted();
    const pipeline = withAffine(withSpatial(read(input), pass, input), await chainAffine(input, pass)).toColourspace("srgb");
    if (i === passes.length - 1 && !pass.lut) return reading(input, finish(pipeline));
    const raster = await reading(input, toRaster(pipeline));
    if (pass.lut) applyLut(raster, pass.lut);
    input = { kind: "raw", raster, width: raster.width, height: raster.height };
  }
  signal?.throwIfAborted();
  return finish(read(input));
}

/** Maps the colour channels in place (the raster is the pass's own output). */
function applyLut(image: Raster, table: Uint8Array) {
  const { data, channels } = image;
  const colour = channels === 2 || channels === 4 ? channels - 1 : channels;
  for (let i = 0; i < data.length; i++) if (i % channels < colour) data[i] = table[data[i]!]!;
}

async function encodeJpeg(pipeline: Sharp): Promise<ResultImage> {
  const { data, info } = await pipeline.jpeg(JPEG_OUTPUT).toBuffer({ resolveWithObject: true });
  return { bytes: data, mime: "image/jpeg", width: info.width, height: info.height };
}

/** The photo (as `read` gives it) at `size`, with `alpha` (of that size) joined as its fourth channel, as a PNG. */
export async function encodePngWithAlpha(source: Source, alpha: Buffer, size: { width: number; height: number }): Promise<ResultImage> {
  // sharp resizes before it joins channels: `alpha` comes at `size` already.
  const photo = read(source);
  const sized = size.width === source.width && size.height === source.height ? photo : photo.resize(size.width, size.height, { fit: "fill" });
  const pipeline = sized.joinChannel(alpha).toColourspace("srgb").png();
  const { data, info } = await reading(source, pipeline.toBuffer({ resolveWithObject: true }));
  return { bytes: data, mime: "image/png", width: info.width, height: info.height };
}

/**
 * The photo scaled to fit `longSide` (never enlarged), as 8-bit sRGB pixels. Scaled from the full
 * decode, as from a raster: the whole-frame extract keeps sharp from decoding JPEG and WebP at a
 * reduced scale (shrink-on-load), which would change the pixels a little.
 */
export function readScaled(source: Source, longSide: number): Promise<Raster> {
  const pipeline = read(source)
    .extract({ left: 0, top: 0, width: source.width, height: source.height })
    .resize(longSide, longSide, { fit: "inside", withoutEnlargement: true })
    .toColourspace("srgb");
  return reading(source, toRaster(pipeline));
}
