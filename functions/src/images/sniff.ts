/**
 * Magic-number sniffing: what the bytes are, whatever the client declared.
 * Only looks at the first bytes; never decodes and never throws.
 */
import type { ImageMime } from "../providers/types.js";
import { ascii, startsWith, u32be } from "./bytes.js";

const HEIC_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis"]);
const HEIF_BRANDS = new Set(["mif1", "msf1"]);
/** AV1-coded HEIF: a different product (image/avif) that we do not accept. */
const AVIF_BRANDS = new Set(["avif", "avis"]);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** The ISO-BMFF `ftyp` brands (major first), or undefined when the bytes don't start with ftyp. */
export function ftypBrands(bytes: Uint8Array): string[] | undefined {
  if (ascii(bytes, 4, 4) !== "ftyp" || bytes.length < 16) return undefined;
  const size = u32be(bytes, 0);
  // A sane ftyp is small; bound it by the data and by a generous cap.
  const end = Math.min(size, bytes.length, 4096);
  if (size < 16) return undefined;
  const brands = [ascii(bytes, 8, 4)];
  for (let off = 16; off + 4 <= end; off += 4) brands.push(ascii(bytes, off, 4));
  return brands;
}

function heifFamily(brands: string[]): ImageMime | undefined {
  const [major] = brands;
  if (major && HEIC_BRANDS.has(major)) return "image/heic";
  if (major && AVIF_BRANDS.has(major)) return undefined;
  // A generic major brand (mif1/msf1): the compatible brands say which codec is inside.
  if (brands.some((b) => HEIC_BRANDS.has(b))) return "image/heic";
  if (brands.some((b) => AVIF_BRANDS.has(b))) return undefined;
  if (brands.some((b) => HEIF_BRANDS.has(b))) return "image/heif";
  return undefined;
}

export function sniffImageType(bytes: Uint8Array): ImageMime | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, PNG_SIGNATURE)) return "image/png";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return "image/webp";
  const brands = ftypBrands(bytes);
  return brands ? heifFamily(brands) : undefined;
}

/**
 * A short, fixed label for what non-image bytes look like, for error messages
 * ("image is not an image (looks like html)"). Returns only labels from a fixed list, never data.
 */
export function describeNonImage(bytes: Uint8Array): string {
  if (bytes.length === 0) return "empty";
  if (ascii(bytes, 0, 5) === "%PDF-") return "pdf";
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) return "zip";
  if (startsWith(bytes, [0x1f, 0x8b])) return "gzip";
  if (ascii(bytes, 0, 4) === "GIF8") return "gif";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
  if (ascii(bytes, 0, 2) === "BM" && bytes.length >= 26) return "bmp";
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return "ico";
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 8) === "JXL \r\n\x87\n") return "jxl";
  const brands = ftypBrands(bytes);
  if (brands) {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return "avif";
    if (brands.some((b) => /^(isom|iso\d|mp4\d|avc1|qt {2}|M4V )$/.test(b))) return "video";
    return "iso-bmff";
  }
  return describeText(bytes) ?? "binary";
}

/** Formats that are images, but not ones we accept: the caller reports "unsupported type" for them. */
export const OTHER_IMAGE_KINDS: ReadonlySet<string> = new Set(["gif", "tiff", "bmp", "ico", "jxl", "avif"]);

function describeText(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, 1024);
  let control = 0;
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) control++;
  // Text has (almost) no control bytes; UTF-8 multibyte sequences are >= 0x80 and fine.
  if (control > head.length / 100) return undefined;
  const text = Buffer.from(head)
    .toString("latin1")
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, "")
    .trimStart()
    .toLowerCase();
  if (/<svg[\s>]/.test(text)) return "svg";
  if (/^<!doctype html|^<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>]/.test(text)) return "html";
  if (text.startsWith("<?xml") || text.startsWith("<")) return "xml";
  if (text.startsWith("{") || text.startsWith("[")) return "json";
  if (/^data:[a-z]+\/[a-z0-9.+-]+;base64,/.test(text)) return "data-url";
  if (/^[a-z0-9+/]{64,}/.test(text)) return "base64 text";
  return "text";
}
