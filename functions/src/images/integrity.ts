/**
 * Cheap structural checks that catch truncated uploads (flaky mobile links) before a decoder
 * sees them. Like the dimension readers, these never throw and every loop is bounded by the data.
 */
import type { ImageMime } from "../providers/types.js";
import { u32le } from "./bytes.js";
import { isoBoxes, walkJpegSegments } from "./dimensions.js";

export function isTruncated(bytes: Uint8Array, mime: ImageMime): boolean {
  switch (mime) {
    case "image/jpeg":
      return !jpegReachesEndOfImage(bytes);
    case "image/png":
      return !pngEndsWithIend(bytes);
    case "image/webp":
      // RIFF size counts everything after the 8-byte RIFF header.
      return !(u32le(bytes, 4) + 8 <= bytes.length);
    case "image/heic":
    case "image/heif":
      return isoBoxOverrunsData(bytes);
  }
}

/** Length of `bytes` without trailing zero padding (some transports pad to a block size). */
function unpaddedLength(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

const PNG_IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

function pngEndsWithIend(bytes: Uint8Array): boolean {
  const end = unpaddedLength(bytes);
  // The IEND chunk's CRC ends in 0x82, so stripping zero padding never eats into it.
  return end >= PNG_IEND.length + 8 && PNG_IEND.every((b, i) => bytes[end - PNG_IEND.length + i] === b);
}

/**
 * True when the marker structure reaches EOI (FFD9). Scans through entropy-coded data between
 * scans rather than looking only at the last bytes, so JPEGs with data appended after EOI
 * (motion photos, maker trailers) are not mistaken for truncated ones.
 */
function jpegReachesEndOfImage(bytes: Uint8Array): boolean {
  let pos = 2;
  // Each round either ends or moves `pos` forward past a scan; bounded by the data length.
  while (pos < bytes.length) {
    const walk = walkJpegSegments(bytes, () => false, pos);
    if (walk.stop === "eoi") return true;
    if (walk.stop !== "sos") return false;
    const next = nextMarkerAfterEntropyData(bytes, walk.offset);
    if (next <= pos) return false;
    pos = next;
  }
  return false;
}

/** Offset of the next real marker after entropy-coded data, or bytes.length if none. */
export function nextMarkerAfterEntropyData(bytes: Uint8Array, from: number): number {
  // indexOf jumps to the next 0xFF natively: a byte-by-byte loop here was a visible share of
  // createJob's CPU for a 15 MB photo (docs/LOAD.md, the CPU profile).
  for (let i = bytes.indexOf(0xff, from); i !== -1 && i + 1 < bytes.length; i = bytes.indexOf(0xff, i + 1)) {
    const b = bytes[i + 1]!;
    // FF00 is a stuffed data byte, FFD0..FFD7 restart markers, FFFF fill: all part of the scan.
    if (b === 0x00 || (b >= 0xd0 && b <= 0xd7) || b === 0xff) continue;
    return i;
  }
  return bytes.length;
}

/** True when a top-level box (typically mdat) declares more bytes than the data holds. */
function isoBoxOverrunsData(bytes: Uint8Array): boolean {
  for (const box of isoBoxes(bytes, 0, bytes.length)) if (box.declaredEnd > bytes.length) return true;
  return false;
}
