/**
 * Offline background removal, honest about its reach: it works for photos taken against a plain
 * backdrop (a wall, a studio sheet) and refuses the rest rather than returning a bad mask.
 *
 * 1. On a small analysis copy, take the border's median colour as the background colour and
 *    require most of the border to be close to it (a busy border means a busy background).
 * 2. Flood-fill from the border through pixels close to that colour: only background connected
 *    to the edges is removed, so background-coloured parts inside the subject stay.
 * 3. Refuse implausible results, then scale the mask up (soft edges for free) as the alpha channel.
 *
 * Memory: only the analysis copy is held as pixels. The full-size alpha goes to the final pass as a
 * PNG (a mask compresses to almost nothing), which joins it to the photo as that streams through.
 * The result is what costs: an RGBA PNG of a detailed photo is about its raw size, 4 bytes a pixel,
 * and the admission gate charges for it (heldPixels.ts CUTOUT_HELD_BYTES_PER_PIXEL).
 */
import { AppError } from "../../errors.js";
import type { ResultImage } from "../types.js";
import { cutoutSize } from "./cutoutSize.js";
import { encodePngWithAlpha, fromRaster, readScaled, type Raster, type Source } from "./raster.js";

const ANALYSIS_LONG_SIDE = 512;
/** Euclidean RGB distance (0..441) within which a pixel counts as background. */
const COLOUR_TOLERANCE = 40;
const BORDER_RING = 2;
/** Share of border pixels that must match the background colour. */
const MIN_UNIFORM_BORDER = 0.6;
const MIN_FOREGROUND = 0.05;
const MAX_FOREGROUND = 0.95;

export const cutoutUnsupported = () =>
  new AppError(
    "failed-precondition",
    "the local provider can only cut out photos with a plain background; choose another provider for cutout",
    "local-cutout-unsupported",
  );

export async function cutout(source: Source, maxResultBytes: number, signal?: AbortSignal): Promise<ResultImage> {
  const small = await readScaled(source, ANALYSIS_LONG_SIDE);
  signal?.throwIfAborted();
  const ring = borderPixels(small);
  const background = medianColour(small, ring);
  const uniform = ring.filter((p) => isNear(small, p, background)).length / ring.length;
  if (!(uniform >= MIN_UNIFORM_BORDER)) throw cutoutUnsupported();

  const mask = foregroundMask(small, ring, background);
  const foreground = mask.reduce((n, v) => n + (v ? 1 : 0), 0) / mask.length;
  if (foreground < MIN_FOREGROUND || foreground > MAX_FOREGROUND) throw cutoutUnsupported();
  signal?.throwIfAborted();

  const size = cutoutSize(source.width, source.height, maxResultBytes);
  const alpha = await fromRaster({ data: Buffer.from(mask.buffer, mask.byteOffset, mask.length), width: small.width, height: small.height, channels: 1 })
    .resize(size.width, size.height, { fit: "fill", kernel: "cubic" })
    .blur(0.6) // feathers the edge by about a pixel
    .toColourspace("b-w") // else sharp hands back 3 channels (its default output is sRGB)
    .png({ compressionLevel: 1 })
    .toBuffer();
  return encodePngWithAlpha(source, alpha, size);
}

/** Pixel indices of the outer ring, each once. */
function borderPixels({ width, height }: Raster): number[] {
  const out: number[] = [];
  const ring = Math.min(BORDER_RING, Math.floor(Math.min(width, height) / 2));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inRing = x < ring || y < ring || x >= width - ring || y >= height - ring;
      if (inRing) out.push(y * width + x);
      else if (x === ring) x = width - ring - 1; // jump across the interior
    }
  }
  return out;
}

type Rgb = [number, number, number];

function medianColour(image: Raster, pixels: number[]): Rgb {
  const channel = (c: number) => {
    const histogram = new Uint32Array(256);
    for (const p of pixels) histogram[image.data[p * image.channels + c]!]!++;
    let seen = 0;
    for (let v = 0; v < 256; v++) if ((seen += histogram[v]!) * 2 >= pixels.length) return v;
    return 255;
  };
  return [channel(0), channel(1), channel(2)];
}

function isNear(image: Raster, pixel: number, [r, g, b]: Rgb): boolean {
  const i = pixel * image.channels;
  const dr = image.data[i]! - r;
  const dg = image.data[i + 1]! - g;
  const db = image.data[i + 2]! - b;
  return dr * dr + dg * dg + db * db <= COLOUR_TOLERANCE * COLOUR_TOLERANCE;
}

/** 255 where the subject is, 0 where background reachable from the border is. */
function foregroundMask(image: Raster, seeds: number[], background: Rgb): Uint8Array {
  const { width, height } = image;
  const mask = new Uint8Array(width * height).fill(255);
  const stack = new Int32Array(width * height); // every pixel is pushed at most once
  let top = 0;
  const visit = (p: number) => {
    if (mask[p] === 255 && isNear(image, p, background)) {
      mask[p] = 0;
      stack[top++] = p;
    }
  };
  for (const p of seeds) visit(p);
  while (top > 0) {
    const p = stack[--top]!;
    const x = p % width;
    if (x > 0) visit(p - 1);
    if (x < width - 1) visit(p + 1);
    if (p >= width) visit(p - width);
    if (p < width * (height - 1)) visit(p + width);
  }
  return mask;
}
