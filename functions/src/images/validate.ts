/**
 * The one gate every input photo passes before a provider sees it (ARCHITECTURE §5 step 2):
 * the declared type must match the bytes, sizes are capped, and dimensions come from headers so
 * decompression bombs are refused before anything decodes them. Errors name the field `image`
 * and a stable reason; they never echo the data.
 */
import { AppError } from "../errors.js";
import type { ImageMime, InputImage } from "../providers/types.js";
import { convertHeifToJpeg, isHeif } from "./convertHeif.js";
import { readImageDimensions } from "./dimensions.js";
import { isTruncated } from "./integrity.js";
import { describeNonImage, OTHER_IMAGE_KINDS, sniffImageType } from "./sniff.js";
import { stripMetadata } from "./stripMetadata.js";

export const ACCEPTED_MIME_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"] as const satisfies readonly ImageMime[];

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export interface InspectedImage {
  mime: ImageMime;
  width: number;
  height: number;
}

const ACCEPTED_LIST = "JPEG, PNG, WebP or HEIC/HEIF";
const fail = (reason: string, message: string) => new AppError("invalid-argument", message, reason);

/** `image/jpg` is a common alias; parameters (`; charset=...`) and case don't matter. */
export function normaliseDeclaredMime(declared: string): ImageMime | undefined {
  const mime = declared.split(";")[0]!.trim().toLowerCase();
  const canonical = mime === "image/jpg" ? "image/jpeg" : mime;
  return (ACCEPTED_MIME_TYPES as readonly string[]).includes(canonical) ? (canonical as ImageMime) : undefined;
}

/** HEIC is HEIF with HEVC inside; clients label the same file either way. */
const sameFamily = (a: ImageMime, b: ImageMime) => a === b || ((a === "image/heic" || a === "image/heif") && (b === "image/heic" || b === "image/heif"));

const megabytes = (n: number) => `${Math.round((n / 1_000_000) * 10) / 10} MB`;
const megapixels = (n: number) => `${Math.round((n / 1_000_000) * 10) / 10} megapixels`;

export function inspectImage(bytes: Uint8Array, declaredMime: string, limits: ImageLimits): InspectedImage {
  if (bytes.length === 0) throw fail("image-empty", "image is empty");
  if (bytes.length > limits.maxBytes) {
    throw fail("image-too-large", `image is too large (the limit is ${megabytes(limits.maxBytes)})`);
  }

  const sniffed = sniffImageType(bytes);
  if (!sniffed) {
    const kind = describeNonImage(bytes);
    if (OTHER_IMAGE_KINDS.has(kind)) {
      throw fail("image-unsupported-type", `image type ${kind} is not supported; send ${ACCEPTED_LIST}`);
    }
    throw fail("image-not-an-image", `image is not an image (looks like ${kind})`);
  }

  const declared = normaliseDeclaredMime(declaredMime);
  if (!declared) {
    throw fail("image-unsupported-type", `image mimeType is not supported; send ${ACCEPTED_LIST}`);
  }
  if (!sameFamily(declared, sniffed)) {
    throw fail("image-type-mismatch", `image content is ${sniffed} but mimeType says ${declared}`);
  }

  const dims = readImageDimensions(bytes, sniffed);
  if (!dims) throw fail("image-dimensions-unreadable", "image dimensions could not be read from its header");
  // Checked on the header's numbers, before any decoder allocates width x height pixels.
  if (dims.width * dims.height > limits.maxPixels) {
    throw fail("image-too-many-pixels", `image has too many pixels (the limit is ${megapixels(limits.maxPixels)})`);
  }

  // A JPEG spends bits on every 8x8 block: even flat grey at quality 1 takes ~3 KB per megapixel.
  // Far fewer bytes means a header that lies about the size: a bomb under the pixel cap that
  // libjpeg would otherwise "decode" in full (265 bytes -> 36 MP of grey). Found by the fuzzer.
  if (sniffed === "image/jpeg" && bytes.length < (dims.width * dims.height) / 4_000) {
    throw fail("image-truncated", "image is truncated or corrupt (the upload may be incomplete)");
  }
  if (isTruncated(bytes, sniffed)) throw fail("image-truncated", "image is truncated or corrupt (the upload may be incomplete)");

  return { mime: sniffed, width: dims.width, height: dims.height };
}

/**
 * The input image a provider may see: inspected as above (the pixel cap on header numbers, before
 * anything decodes), then stripped of metadata (EXIF with GPS, XMP, IPTC, comments; see
 * stripMetadata.ts) without re-encoding. HEIC/HEIF is then converted to a JPEG without any
 * metadata (convertHeif.ts): no provider accepts it, so every provider, `local` included, gets
 * JPEG, PNG or WebP. Width and height are the header's, or the converted picture's (rotation
 * applied).
 */
export async function prepareInputImage(bytes: Uint8Array, declaredMime: string, limits: ImageLimits): Promise<InputImage> {
  const inspected = inspectImage(bytes, declaredMime, limits);
  const stripped: InputImage = { ...inspected, bytes: stripMetadata(bytes, inspected.mime) };
  return isHeif(stripped.mime) ? convertHeifToJpeg(stripped, { maxPixels: limits.maxPixels }) : stripped;
}
