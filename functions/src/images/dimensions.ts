/**
 * Image dimensions from headers only, before anything decodes pixels, so a decompression bomb
 * (tiny file, huge declared size) is refused cheaply. Input is hostile: every reader is bounded by
 * the data, every loop advances, and garbage yields undefined instead of throwing.
 */
import type { ImageMime } from "../providers/types.js";
import { ascii, startsWith, u16be, u16le, u24le, u32be, u32le, u64be, u8 } from "./bytes.js";

export interface Dimensions {
  width: number;
  height: number;
}

export function readImageDimensions(bytes: Uint8Array, mime: ImageMime): Dimensions | undefined {
  try {
    const dims = readers[mime](bytes);
    return dims && isPositive(dims.width) && isPositive(dims.height) ? dims : undefined;
  } catch {
    return undefined; // belt and braces: the readers are written not to throw
  }
}

const isPositive = (n: number) => Number.isSafeInteger(n) && n > 0;

const readers: Record<ImageMime, (bytes: Uint8Array) => Dimensions | undefined> = {
  "image/jpeg": jpegDimensions,
  "image/png": pngDimensions,
  "image/webp": webpDimensions,
  "image/heic": heifDimensions,
  "image/heif": heifDimensions,
};

// ---------------------------------------------------------------- JPEG

/** SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but don't. */
const isStartOfFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Markers without a length field: TEM, RST0..7, SOI, EOI. */
const isStandalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd9);

export interface JpegWalkEnd {
  /** sos: entropy-coded data starts at offset; stopped: the visitor asked to stop */
  stop: "sos" | "eoi" | "end" | "corrupt" | "stopped";
  offset: number;
}

/**
 * Walks JPEG marker segments from `start` (just after SOI by default), calling
 * `visit(marker, payloadOffset, payloadLength)` for every segment that has a length field;
 * the visitor returns true to stop. Ends at SOS, EOI, the end of data or bad data.
 */
export function walkJpegSegments(bytes: Uint8Array, visit: (marker: number, payload: number, length: number) => boolean | void, start = 2): JpegWalkEnd {
  let pos = start;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) return { stop: "corrupt", offset: pos };
    while (bytes[pos] === 0xff) pos++; // any number of 0xFF fill bytes may precede a marker
    const marker = u8(bytes, pos);
    if (Number.isNaN(marker)) return { stop: "end", offset: pos };
    pos++;
    if (marker === 0xd9) return { stop: "eoi", offset: pos };
    if (marker === 0x00) return { stop: "corrupt", offset: pos };
    if (isStandalone(marker)) continue;
    const length = u16be(bytes, pos); // includes its own two bytes
    if (!(length >= 2)) return { stop: Number.isNaN(length) ? "end" : "corrupt", offset: pos };
    if (visit(marker, pos + 2, length - 2) === true) return { stop: "stopped", offset: pos };
    if (marker === 0xda) return { stop: "sos", offset: pos + length };
    pos += length; // strictly advances: the loop is bounded by the data length
  }
  return { stop: "end", offset: pos };
}

function jpegDimensions(bytes: Uint8Array): Dimensions | undefined {
  if (!startsWith(bytes, [0xff, 0xd8])) return undefined;
  let dims: Dimensions | undefined;
  walkJpegSegments(bytes, (marker, payload) => {
    if (!isStartOfFrame(marker)) return false;
    // payload: precision(1) height(2) width(2). Height 0 means "defined by DNL later": unreadable.
    dims = { height: u16be(bytes, payload + 1), width: u16be(bytes, payload + 3) };
    return true;
  });
  return dims;
}

// ---------------------------------------------------------------- PNG

function pngDimensions(bytes: Uint8Array): Dimensions | undefined {
  // signature(8) length(4) "IHDR"(4) width(4) height(4): IHDR must be the first chunk.
  if (ascii(bytes, 12, 4) !== "IHDR" || u32be(bytes, 8) !== 13) return undefined;
  const width = u32be(bytes, 16);
  const height = u32be(bytes, 20);
  // The spec caps both at 2^31 - 1.
  return width < 2 ** 31 && height < 2 ** 31 ? { width, height } : undefined;
}

// ---------------------------------------------------------------- WebP

function webpDimensions(bytes: Uint8Array): Dimensions | undefined {
  if (ascii(bytes, 0, 4) !== "RIFF" || ascii(bytes, 8, 4) !== "WEBP") return undefined;
  const chunk = ascii(bytes, 12, 4);
  const data = 20;
  switch (chunk) {
    case "VP8X": // extended: 24-bit canvas width-1 and height-1 after flags(1) + reserved(3)
      return { width: u24le(bytes, data + 4) + 1, height: u24le(bytes, data + 7) + 1 };
    case "VP8L": {
      // lossless: signature 0x2F, then 14 bits width-1 and 14 bits height-1
      if (u8(bytes, data) !== 0x2f) return undefined;
      const bits = u32le(bytes, data + 1);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    case "VP8 ": {
      // lossy: 3-byte frame tag (bit 0 clear on a key frame), start code 9D 01 2A, 14-bit sizes
      if ((u8(bytes, data) & 1) !== 0 || !startsWith(bytes, [0x9d, 0x01, 0x2a], data + 3)) return undefined;
      return { width: u16le(bytes, data + 6) & 0x3fff, height: u16le(bytes, data + 8) & 0x3fff };
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- HEIC / HEIF (ISO-BMFF)

interface Box {
  type: string;
  /** first byte after the box header */
  body: number;
  /** one past the last byte of the box, clamped to its parent */
  end: number;
  /** the end the box header declares, unclamped (for truncation checks) */
  declaredEnd: number;
}

const MAX_BOXES = 10_000; // a hostile file may hold millions of tiny boxes; we need a handful

/** Child boxes of [start, end); stops at the first malformed header. */
export function* isoBoxes(bytes: Uint8Array, start: number, end: number): Generator<Box> {
  let pos = start;
  for (let n = 0; n < MAX_BOXES && pos + 8 <= end; n++) {
    let size = u32be(bytes, pos);
    const type = ascii(bytes, pos + 4, 4);
    let header = 8;
    if (size === 1) {
      size = u64be(bytes, pos + 8);
      header = 16;
    } else if (size === 0) {
      size = end - pos; // extends to the end of its parent
    }
    if (!(size >= header)) return;
    yield { type, body: pos + header, end: Math.min(pos + size, end), declaredEnd: pos + size };
    pos += size;
  }
}

const child = (bytes: Uint8Array, parent: Box, type: string, skip = 0): Box | undefined => {
  for (const box of isoBoxes(bytes, parent.body + skip, parent.end)) if (box.type === type) return box;
  return undefined;
};

function heifDimensions(bytes: Uint8Array): Dimensions | undefined {
  const file: Box = { type: "", body: 0, end: bytes.length, declaredEnd: bytes.length };
  const meta = child(bytes, file, "meta");
  if (!meta) return undefined;
  const FULL_BOX = 4; // version(1) + flags(3)
  const iprp = child(bytes, meta, "iprp", FULL_BOX);
  const ipco = iprp && child(bytes, iprp, "ipco");
  if (!iprp || !ipco) return undefined;

  // Property boxes are numbered from 1 in ipco order; ipma refers to them by that index.
  const sizes = new Map<number, Dimensions>();
  let index = 0;
  for (const prop of isoBoxes(bytes, ipco.body, ipco.end)) {
    index++;
    if (prop.type === "ispe" && prop.body + FULL_BOX + 8 <= prop.end) {
      sizes.set(index, { width: u32be(bytes, prop.body + 4), height: u32be(bytes, prop.body + 8) });
    }
  }
  if (sizes.size === 0) return undefined;

  const primary = primaryItemSize(bytes, meta, iprp, sizes);
  if (primary) return primary;
  // No usable item association: the largest declared size is the safe answer for the pixel cap.
  return [...sizes.values()].reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
}

/** The ispe associated with the primary item (pitm) through ipma, if the file says so plainly. */
function primaryItemSize(bytes: Uint8Array, meta: Box, iprp: Box, sizes: Map<number, Dimensions>) {
  const pitm = child(bytes, meta, "pitm", 4);
  const ipma = child(bytes, iprp, "ipma");
  if (!pitm || !ipma) return undefined;
  const primaryId = u8(bytes, pitm.body) === 0 ? u16be(bytes, pitm.body + 4) : u32be(bytes, pitm.body + 4);

  const version = u8(bytes, ipma.body);
  const wideIndex = (u8(bytes, ipma.body + 3) & 1) === 1;
  const count = u32be(bytes, ipma.body + 4);
  let pos = ipma.body + 8;
  for (let i = 0; i < count && i < MAX_BOXES && pos < ipma.end; i++) {
    const itemId = version < 1 ? u16be(bytes, pos) : u32be(bytes, pos);
    pos += version < 1 ? 2 : 4;
    const associations = u8(bytes, pos++);
    for (let a = 0; a < associations && pos < ipma.end; a++) {
      const propIndex = wideIndex ? u16be(bytes, pos) & 0x7fff : u8(bytes, pos) & 0x7f; // top bit: essential
      pos += wideIndex ? 2 : 1;
      if (itemId === primaryId && sizes.has(propIndex)) return sizes.get(propIndex);
    }
  }
  return undefined;
}
