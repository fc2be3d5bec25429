/**
 * Lossless metadata stripping (issue 5 item 2): EXIF (GPS included), XMP, IPTC, comments and
 * similar are removed at the container level before an image goes to any provider. Nothing is
 * decoded or re-encoded: coded image data is copied byte for byte, so pixels are unchanged.
 *
 * Per format:
 * - JPEG: keeps SOI, APP0 "JFIF", APP2 "ICC_PROFILE" (colour), APP14 "Adobe" (colour transform)
 *   and every non-APP/non-COM marker segment (tables, frame, scans, restart markers) verbatim;
 *   drops every other APPn (EXIF/XMP APP1, MPF APP2, IPTC/Photoshop APP13, C2PA/JUMBF APP11, ...)
 *   and COM, also between progressive scans. Anything after EOI (motion-photo video, MPF
 *   secondary images, maker trailers) is dropped too: it is not part of the image and may carry
 *   its own metadata.
 * - PNG: keeps every critical chunk and the ancillary chunks that affect rendering (transparency,
 *   colour, physical size, animation); drops all other ancillary chunks (eXIf, tEXt, zTXt, iTXt,
 *   tIME, caBX C2PA, Apple iDOT whose offsets would go stale, private chunks) and anything after
 *   IEND. Kept chunks are copied with their CRCs.
 * - WebP: keeps VP8/VP8L/VP8X/ALPH/ANIM/ANMF/ICCP; drops EXIF, XMP and unknown chunks; clears
 *   the XMP (and, unless orientation is kept, EXIF) flag in VP8X and rewrites the RIFF size.
 * - HEIC/HEIF: ISO-BMFF offsets (iloc) make removing items risky, so Exif and XMP items are
 *   neutralised in place instead, lengths unchanged: an Exif item becomes an empty, valid TIFF
 *   followed by zeros, an XMP item a minimal empty packet followed by spaces. HEIF carries
 *   orientation in `irot`/`imir` properties, which are untouched.
 *
 * Orientation: dropping EXIF would lose the Orientation tag and show the photo sideways. When
 * the EXIF Orientation is 2..8 (JPEG, PNG eXIf, WebP EXIF), the EXIF is replaced by a minimal
 * one holding only that tag (IFD0 with a single 0x0112 entry, nothing else). That is 26 bytes of
 * TIFF, never larger than a real EXIF that held the tag, so in practice the output is never larger
 * than the input.
 *
 * Input is hostile: every loop advances and is bounded by the data; malformed structure throws
 * AppError invalid-argument `image-unreadable` and nothing else.
 */
import { crc32 } from "node:zlib";
import { AppError } from "../errors.js";
import type { ImageMime } from "../providers/types.js";
import { ascii, startsWith, u16be, u16le, u32be, u32le, u64be, u8 } from "./bytes.js";
import { isoBoxes } from "./dimensions.js";
import { nextMarkerAfterEntropyData } from "./integrity.js";

/**
 * The image without metadata; see the file comment for what goes. `bytes` is never modified. A
 * JPEG, PNG or WebP with nothing to remove comes back as `bytes` itself (a 15 MB photo is not copied
 * for nothing); anything else is new bytes (HEIF always: its items are overwritten in a copy).
 */
export function stripMetadata(bytes: Uint8Array, mime: ImageMime): Uint8Array {
  try {
    return strippers[mime](bytes);
  } catch (error) {
    if (error instanceof AppError) throw error;
    // The walkers are written not to throw; anything else is still only "unreadable input".
    throw unreadable();
  }
}

/** The kept parts as one buffer, or `bytes` itself when they are all of it, in order. */
function joinKept(bytes: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  let end = bytes.byteOffset;
  for (const part of parts) {
    if (part.buffer !== bytes.buffer || part.byteOffset !== end) return Buffer.concat(parts);
    end += part.length;
  }
  return end === bytes.byteOffset + bytes.length ? bytes : Buffer.concat(parts);
}

const unreadable = () => new AppError("invalid-argument", "image could not be read to remove its metadata (it may be corrupt)", "image-unreadable");

const strippers: Record<ImageMime, (bytes: Uint8Array) => Uint8Array> = {
  "image/jpeg": stripJpeg,
  "image/png": stripPng,
  "image/webp": stripWebp,
  "image/heic": neutraliseHeif,
  "image/heif": neutraliseHeif,
};

// ---------------------------------------------------------------- EXIF orientation

const ORIENTATION_TAG = 0x0112;
const MAX_IFD_ENTRIES = 1000;

/** The Orientation (1..8) in IFD0 of a TIFF structure starting at `tiff`, or undefined. */
export function exifOrientation(bytes: Uint8Array, tiff: number, end: number): number | undefined {
  const order = ascii(bytes, tiff, 2);
  if (order !== "II" && order !== "MM") return undefined;
  const le = order === "II";
  const r16 = (o: number) => (o + 2 <= end ? (le ? u16le(bytes, o) : u16be(bytes, o)) : NaN);
  const r32 = (o: number) => (o + 4 <= end ? (le ? u32le(bytes, o) : u32be(bytes, o)) : NaN);
  if (r16(tiff + 2) !== 42) return undefined;
  const ifd0 = tiff + r32(tiff + 4);
  const count = r16(ifd0);
  if (!(count > 0)) return undefined;
  for (let i = 0; i < count && i < MAX_IFD_ENTRIES; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > end) return undefined;
    if (r16(entry) !== ORIENTATION_TAG) continue;
    // SHORT (3), count 1: the value sits in the first two bytes of the value field.
    if (r16(entry + 2) !== 3 || r32(entry + 4) !== 1) return undefined;
    const value = r16(entry + 8);
    return value >= 1 && value <= 8 ? value : undefined;
  }
  return undefined;
}

/** A minimal big-endian TIFF: header + IFD0 holding only Orientation + no next IFD (26 bytes). */
export function minimalOrientationTiff(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write("MM", 0, "latin1");
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(ORIENTATION_TAG, 10);
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // count
  tiff.writeUInt16BE(orientation, 18); // value, left-justified in the 4-byte field
  tiff.writeUInt32BE(0, 22); // no IFD1 (no thumbnail)
  return tiff;
}

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

/** Orientation from an EXIF blob that may or may not start with "Exif\0\0". */
function orientationOf(bytes: Uint8Array, start: number, end: number): number | undefined {
  const tiff = startsWith(bytes, EXIF_HEADER, start) ? start + 6 : start;
  return exifOrientation(bytes, tiff, end);
}

/** Orientation worth keeping: anything but "normal" (1) or unknown. */
const needsOrientation = (o: number | undefined): o is number => o !== undefined && o !== 1;

// ---------------------------------------------------------------- JPEG

const isStandalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd8);
const isAppOrComment = (m: number) => (m >= 0xe0 && m <= 0xef) || m === 0xfe;

/** APPn segments we keep, by marker and identifier at the start of the payload. */
function keepAppSegment(bytes: Uint8Array, marker: number, payload: number): boolean {
  switch (marker) {
    case 0xe0:
      return ascii(bytes, payload, 5) === "JFIF\0";
    case 0xe2:
      return ascii(bytes, payload, 12) === "ICC_PROFILE\0";
    case 0xee:
      return ascii(bytes, payload, 5) === "Adobe";
    default:
      return false;
  }
}

function minimalExifSegment(orientation: number): Buffer {
  const tiff = minimalOrientationTiff(orientation);
  const header = Buffer.from([0xff, 0xe1, 0, 0, ...EXIF_HEADER]);
  header.writeUInt16BE(2 + EXIF_HEADER.length + tiff.length, 2);
  return Buffer.concat([header, tiff]);
}

function stripJpeg(bytes: Uint8Array): Uint8Array {
  if (!startsWith(bytes, [0xff, 0xd8, 0xff])) throw unreadable();
  const parts: Uint8Array[] = [bytes.subarray(0, 2)];
  let exifSeen = false;
  let scanSeen = false;
  let pos = 2;
  // Every round moves `pos` strictly forward, so the loop is bounded by the data length.
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) throw unreadable();
    while (bytes[pos] === 0xff) pos++; // fill bytes before a marker carry nothing
    const marker = u8(bytes, pos);
    if (Number.isNaN(marker)) break;
    pos++;
    if (marker === 0xd9) {
      parts.push(bytes.subarray(pos - 2, pos)); // EOI; whatever follows is not the image
      return joinKept(bytes, parts);
    }
    if (marker === 0x00) throw unreadable();
    if (isStandalone(marker)) {
      parts.push(bytes.subarray(pos - 2, pos));
      continue;
    }
    const length = u16be(bytes, pos); // includes its own two bytes
    if (!(length >= 2) || pos + length > bytes.length) throw unreadable();
    const payload = pos + 2;
    const end = pos + length;
    if (marker === 0xda) {
      // Start of scan: copy the header and the entropy-coded data after it untouched.
      const next = nextMarkerAfterEntropyData(bytes, end);
      parts.push(bytes.subarray(pos - 2, next));
      scanSeen = true;
      pos = next;
      continue;
    }
    if (!isAppOrComment(marker) || keepAppSegment(bytes, marker, payload)) {
      parts.push(bytes.subarray(pos - 2, end));
    } else if (marker === 0xe1 && !exifSeen && startsWith(bytes, EXIF_HEADER, payload)) {
      exifSeen = true; // only the first EXIF segment is the image's EXIF
      const orientation = exifOrientation(bytes, payload + 6, end);
      if (needsOrientation(orientation)) parts.push(minimalExifSegment(orientation));
    }
    pos = end;
  }
  // Data ended without EOI. Inside the last scan that is a truncated (but readable) image;
  // before any scan there is no image at all.
  if (!scanSeen) throw unreadable();
  return joinKept(bytes, parts);
}

// ---------------------------------------------------------------- PNG

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Ancillary chunks kept because they affect how pixels render: transparency, colour, bit depth,
 * background, physical pixel size, APNG animation, HDR. Critical chunks (upper-case first letter)
 * are always kept. Everything else ancillary is metadata or a private chunk and goes.
 */
const PNG_KEEP_ANCILLARY = new Set([
  "tRNS",
  "gAMA",
  "cHRM",
  "sRGB",
  "iCCP",
  "cICP",
  "mDCv",
  "cLLI",
  "sBIT",
  "bKGD",
  "hIST",
  "sPLT",
  "pHYs",
  "acTL",
  "fcTL",
  "fdAT",
]);

const isCriticalPngChunk = (type: string) => type.charCodeAt(0) >= 0x41 && type.charCodeAt(0) <= 0x5a;

function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, "latin1");
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

function stripPng(bytes: Uint8Array): Uint8Array {
  if (!startsWith(bytes, PNG_SIGNATURE)) throw unreadable();
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let exifSeen = false;
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = u32be(bytes, pos);
    const type = ascii(bytes, pos + 4, 4);
    if (!(length < 2 ** 31) || pos + 12 + length > bytes.length || !/^[A-Za-z]{4}$/.test(type)) throw unreadable();
    const data = pos + 8;
    const end = data + length + 4;
    if (isCriticalPngChunk(type) || PNG_KEEP_ANCILLARY.has(type)) {
      parts.push(bytes.subarray(pos, end));
    } else if (type === "eXIf" && !exifSeen) {
      exifSeen = true;
      const orientation = orientationOf(bytes, data, data + length);
      if (needsOrientation(orientation)) parts.push(pngChunk("eXIf", minimalOrientationTiff(orientation)));
    }
    pos = end;
    if (type === "IEND") return joinKept(bytes, parts); // trailing data is not the image
  }
  throw unreadable(); // no IEND: truncated or not a PNG
}

// ---------------------------------------------------------------- WebP

const WEBP_KEEP = new Set(["VP8X", "VP8 ", "VP8L", "ALPH", "ANIM", "ANMF", "ICCP"]);
const VP8X_EXIF_FLAG = 0x08;
const VP8X_XMP_FLAG = 0x04;

function webpChunk(fourcc: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(8 + data.length + (data.length & 1));
  chunk.write(fourcc, 0, "latin1");
  chunk.writeUInt32LE(data.length, 4);
  chunk.set(data, 8);
  return chunk;
}

function stripWebp(bytes: Uint8Array): Uint8Array {
  if (ascii(bytes, 0, 4) !== "RIFF" || ascii(bytes, 8, 4) !== "WEBP") throw unreadable();
  const riffEnd = 8 + u32le(bytes, 4);
  if (!(riffEnd >= 12 && riffEnd <= bytes.length)) throw unreadable();
  const parts: Uint8Array[] = [];
  let vp8xIndex = -1;
  let exifIndex = -1; // where the minimal orientation EXIF went, if anywhere
  let pos = 12;
  while (pos + 8 <= riffEnd) {
    const fourcc = ascii(bytes, pos, 4);
    const size = u32le(bytes, pos + 4);
    const data = pos + 8;
    if (!(data + size <= riffEnd)) throw unreadable();
    // Chunks are padded to even sizes; tolerate a missing pad byte on the last chunk.
    const end = Math.min(data + size + (size & 1), riffEnd);
    if (fourcc === "VP8X" && vp8xIndex < 0 && size >= 10) {
      vp8xIndex = parts.length;
      parts.push(bytes.subarray(pos, end));
    } else if (WEBP_KEEP.has(fourcc) && fourcc !== "VP8X") {
      parts.push(bytes.subarray(pos, end));
    } else if (fourcc === "EXIF") {
      const orientation = orientationOf(bytes, data, data + size);
      if (exifIndex < 0 && needsOrientation(orientation)) {
        exifIndex = parts.length;
        parts.push(webpChunk("EXIF", minimalOrientationTiff(orientation)));
      }
    }
    pos = end;
  }
  if (vp8xIndex >= 0) {
    const vp8x = parts[vp8xIndex]!;
    const cleared = vp8x[8]! & ~VP8X_XMP_FLAG & ~VP8X_EXIF_FLAG;
    const flags = exifIndex >= 0 ? cleared | VP8X_EXIF_FLAG : cleared;
    if (flags !== vp8x[8]) {
      const copy = Buffer.from(vp8x); // a copy: the caller's bytes are not modified
      copy[8] = flags;
      parts[vp8xIndex] = copy;
    }
  } else if (exifIndex >= 0) {
    // A simple (non-VP8X) file can't declare EXIF; drop the orientation rather than the format.
    parts.splice(exifIndex, 1);
  }
  const kept = joinKept(bytes, [bytes.subarray(0, 12), ...parts]);
  // A new file gets its own RIFF size (the header in it is already a copy).
  if (kept !== bytes) new DataView(kept.buffer, kept.byteOffset, kept.length).setUint32(4, kept.length - 8, true);
  return kept;
}

// ---------------------------------------------------------------- HEIC / HEIF

const MAX_ITEMS = 10_000;
const XMP_CONTENT_TYPE = "application/rdf+xml";

/** Payload written over an Exif item: tiff-header offset 6, "Exif\0\0", an empty big-endian TIFF. */
const NEUTRAL_EXIF = Buffer.from([0, 0, 0, 6, ...EXIF_HEADER, 0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0]);
/** Payload written over an XMP item: an empty packet; the rest is filled with spaces (valid XML). */
const NEUTRAL_XMP = Buffer.from('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', "latin1");

interface Extent {
  offset: number;
  length: number;
}

/**
 * Overwrites the payload of Exif and XMP items in place. Box and item lengths and every offset
 * stay as they were, so the file structure is untouched; only metadata bytes change.
 */
function neutraliseHeif(bytes: Uint8Array): Uint8Array {
  const out = Buffer.from(bytes); // a copy: the caller's bytes are not modified
  const meta = [...isoBoxes(bytes, 0, bytes.length)].find((b) => b.type === "meta");
  if (!meta) throw unreadable();
  const FULL_BOX = 4;
  const children = [...isoBoxes(bytes, meta.body + FULL_BOX, meta.end)];
  const iinf = children.find((b) => b.type === "iinf");
  const iloc = children.find((b) => b.type === "iloc");
  const idat = children.find((b) => b.type === "idat");
  if (!iinf || !iloc) return out; // no items described: nothing that could hold metadata

  const targets = metadataItems(bytes, iinf);
  if (targets.size === 0) return out;
  const locations = itemLocations(bytes, iloc, new Set(targets.keys()), idat);
  // Real items never overlap, so overwriting more than the file's length means a hostile iloc.
  let budget = bytes.length;
  for (const [itemId, extents] of locations) {
    const kind = targets.get(itemId)!;
    const neutral = kind === "exif" ? NEUTRAL_EXIF : NEUTRAL_XMP;
    const total = extents.reduce((n, e) => n + e.length, 0);
    const template = total >= neutral.length ? neutral : Buffer.alloc(0);
    const fill = kind === "exif" ? 0x00 : 0x20;
    let written = 0;
    for (const { offset, length } of extents) {
      if (length > budget) throw unreadable();
      budget -= length;
      out.fill(fill, offset, offset + length);
      const head = template.subarray(Math.min(written, template.length), Math.min(written + length, template.length));
      out.set(head, offset);
      written += length;
    }
  }
  return out;
}

/** Item ids of Exif items and XMP (`mime` application/rdf+xml) items in `iinf`. */
function metadataItems(bytes: Uint8Array, iinf: { body: number; end: number }): Map<number, "exif" | "xmp"> {
  const items = new Map<number, "exif" | "xmp">();
  const version = u8(bytes, iinf.body);
  const entriesStart = iinf.body + 4 + (version === 0 ? 2 : 4);
  let n = 0;
  for (const infe of isoBoxes(bytes, entriesStart, iinf.end)) {
    if (++n > MAX_ITEMS) break;
    if (infe.type !== "infe") continue;
    const v = u8(bytes, infe.body);
    if (v < 2) continue; // v0/v1 have no item_type; HEIF requires v2+
    let pos = infe.body + 4;
    const itemId = v === 2 ? u16be(bytes, pos) : u32be(bytes, pos);
    pos += v === 2 ? 2 : 4;
    pos += 2; // item_protection_index
    const itemType = ascii(bytes, pos, 4);
    pos += 4;
    if (Number.isNaN(itemId) || pos > infe.end) continue;
    if (itemType === "Exif") {
      items.set(itemId, "exif");
    } else if (itemType === "mime") {
      pos = skipCString(bytes, pos, infe.end); // item_name
      const contentType = readCString(bytes, pos, infe.end);
      if (contentType?.trim().toLowerCase().split(";")[0] === XMP_CONTENT_TYPE) items.set(itemId, "xmp");
    }
  }
  return items;
}

function skipCString(bytes: Uint8Array, pos: number, end: number): number {
  while (pos < end && bytes[pos] !== 0) pos++;
  return pos + 1;
}

function readCString(bytes: Uint8Array, pos: number, end: number): string | undefined {
  const stop = skipCString(bytes, pos, end) - 1;
  return stop < end ? ascii(bytes, pos, Math.min(stop - pos, 256)) : undefined;
}

/**
 * File ranges of the `wanted` items' data from one pass over `iloc` (construction method 0: file
 * offsets, 1: `idat`), clamped to the data. Items stored in a way we can't address (external data
 * references, item-offset construction) or unreadable entries are left out.
 */
function itemLocations(
  bytes: Uint8Array,
  iloc: { body: number; end: number },
  wanted: ReadonlySet<number>,
  idat: { body: number; end: number } | undefined,
): Map<number, Extent[]> {
  const found = new Map<number, Extent[]>();
  const version = u8(bytes, iloc.body);
  if (!(version <= 2)) return found;
  let pos = iloc.body + 4;
  const sizes1 = u8(bytes, pos++);
  const sizes2 = u8(bytes, pos++);
  const offsetSize = sizes1 >> 4;
  const lengthSize = sizes1 & 0xf;
  const baseOffsetSize = sizes2 >> 4;
  const indexSize = version >= 1 ? sizes2 & 0xf : 0;
  if (![offsetSize, lengthSize, baseOffsetSize, indexSize].every((s) => s === 0 || s === 4 || s === 8)) return found;
  const read = (size: number) => {
    const v = size === 0 ? 0 : size === 2 ? u16be(bytes, pos) : size === 4 ? u32be(bytes, pos) : u64be(bytes, pos);
    pos += size;
    return v;
  };
  const itemCount = read(version < 2 ? 2 : 4);
  for (let i = 0; i < itemCount && i < MAX_ITEMS && pos < iloc.end && found.size < wanted.size; i++) {
    const itemId = read(version < 2 ? 2 : 4);
    const method = version >= 1 ? read(2) & 0xf : 0;
    const dataReference = read(2);
    const base = read(baseOffsetSize);
    const extentCount = read(2);
    if (Number.isNaN(extentCount) || pos > iloc.end) return found;
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount && pos < iloc.end; e++) {
      read(indexSize);
      const offset = read(offsetSize);
      const length = read(lengthSize);
      if (pos > iloc.end || Number.isNaN(offset) || Number.isNaN(length)) return found;
      extents.push({ offset, length });
    }
    if (!wanted.has(itemId) || dataReference !== 0) continue;
    const [origin, limit] = method === 0 ? [base, bytes.length] : method === 1 && idat ? [idat.body + base, idat.end] : [];
    if (origin === undefined || limit === undefined) continue;
    found.set(
      itemId,
      extents.flatMap(({ offset, length }) => {
        const start = origin + offset;
        // Length 0 means "to the end of the data" (a single-extent item).
        const stop = Math.min(length === 0 ? limit : start + length, limit);
        return start >= 0 && start < stop ? [{ offset: start, length: stop - start }] : [];
      }),
    );
  }
  return found;
}
