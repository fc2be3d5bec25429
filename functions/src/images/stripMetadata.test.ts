import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { AppError } from "../errors.js";
import type { ImageMime } from "../providers/types.js";
import { exifGpsEntryCount, makeFaceImage, makeHeicHeader, withExifGps } from "../../test/fixtures/images.js";
import { walkJpegSegments } from "./dimensions.js";
import { stripMetadata } from "./stripMetadata.js";
import { prepareInputImage } from "./validate.js";

const EXIF = {
  IFD0: { Make: "FixtureCam", Model: "Synthetic 1" },
  IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1", GPSLongitudeRef: "W", GPSLongitude: "0/1 7/1 0/1" },
};
const XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>XmpSecretCreator</dc:creator>' +
  "</rdf:Description></rdf:RDF></x:xmpmeta>";
/** Strings that only metadata holds: none may survive stripping. */
const SECRETS = ["FixtureCam", "Synthetic 1", "XmpSecretCreator", "CommentSecret", "IptcSecret", "TextSecret", "TrailerSecret"];

const has = (bytes: Uint8Array, text: string) => Buffer.from(bytes).includes(text, 0, "latin1");
const assertNoSecrets = (bytes: Uint8Array) => {
  for (const s of SECRETS) assert.equal(has(bytes, s), false, `"${s}" survived stripping`);
};
const pixels = (bytes: Uint8Array) => sharp(bytes).raw().toBuffer();
const assertSamePixels = async (a: Uint8Array, b: Uint8Array) => assert.ok((await pixels(a)).equals(await pixels(b)), "pixels differ");

/** Markers of the segments before the first scan. */
function jpegMarkers(bytes: Uint8Array): number[] {
  const markers: number[] = [];
  walkJpegSegments(bytes, (marker) => void markers.push(marker));
  return markers;
}

function jpegSegment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** Inserts segments right after SOI. */
const insertAfterSoi = (jpeg: Buffer, ...segments: Buffer[]) => Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);

// ---------------------------------------------------------------- PNG helpers

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, "latin1");
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** Whole chunks (length, type, data, CRC) in order. */
function pngChunks(png: Uint8Array): { type: string; bytes: Buffer }[] {
  const buf = Buffer.from(png);
  const chunks: { type: string; bytes: Buffer }[] = [];
  for (let pos = 8; pos + 12 <= buf.length;) {
    const end = pos + 12 + buf.readUInt32BE(pos);
    chunks.push({ type: buf.toString("latin1", pos + 4, pos + 8), bytes: buf.subarray(pos, end) });
    pos = end;
  }
  return chunks;
}

/** Inserts chunks right after IHDR. */
function insertAfterIhdr(png: Buffer, ...chunks: Buffer[]): Buffer {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

// ---------------------------------------------------------------- WebP helpers

function webpChunks(webp: Uint8Array): { fourcc: string; data: Buffer }[] {
  const buf = Buffer.from(webp);
  const chunks: { fourcc: string; data: Buffer }[] = [];
  for (let pos = 12; pos + 8 <= buf.length;) {
    const size = buf.readUInt32LE(pos + 4);
    chunks.push({ fourcc: buf.toString("latin1", pos, pos + 4), data: buf.subarray(pos + 8, pos + 8 + size) });
    pos += 8 + size + (size & 1);
  }
  return chunks;
}

// ---------------------------------------------------------------- JPEG

describe("stripMetadata: JPEG", () => {
  it("removes EXIF with GPS and keeps the pixels identical", async () => {
    const input = await withExifGps(await makeFaceImage({ width: 96, height: 64 }));
    const before = await sharp(input).metadata();
    assert.ok(exifGpsEntryCount(before.exif) > 0, "fixture has GPS");

    const copy = Buffer.from(input);
    const out = stripMetadata(input, "image/jpeg");
    assert.ok(input.equals(copy), "input not modified");
    const after = await sharp(out).metadata();
    assert.equal(after.exif, undefined);
    assert.equal(exifGpsEntryCount(after.exif), 0);
    assert.ok(!jpegMarkers(out).includes(0xe1), "no APP1 left");
    assert.ok(out.length < input.length);
    assertNoSecrets(out);
    await assertSamePixels(input, out);
  });

  it("removes XMP, COM, IPTC, other APPn and data after EOI; keeps JFIF", async () => {
    const base = await sharp(await makeFaceImage({ width: 64, height: 64 }))
      .withExif(EXIF)
      .withXmp(XMP)
      .jpeg()
      .toBuffer();
    const jfif = jpegSegment(0xe0, Buffer.from([...Buffer.from("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0]));
    const input = Buffer.concat([
      insertAfterSoi(
        base,
        jfif,
        jpegSegment(0xfe, Buffer.from("CommentSecret")),
        jpegSegment(0xed, Buffer.from("Photoshop 3.0\0IptcSecret")),
        jpegSegment(0xe2, Buffer.from("MPF\0TrailerSecret")),
        jpegSegment(0xeb, Buffer.from("JP\0\0jumbf")),
      ),
      Buffer.from("TrailerSecret: appended video"),
    ]);
    assert.ok(has(input, "XmpSecretCreator") && has(input, "FixtureCam"), "fixture has XMP and EXIF");

    const out = stripMetadata(input, "image/jpeg");
    const markers = jpegMarkers(out);
    assert.equal(markers[0], 0xe0, "JFIF APP0 kept first");
    assert.deepEqual(
      markers.filter((m) => (m >= 0xe0 && m <= 0xef) || m === 0xfe),
      [0xe0],
    );
    assertNoSecrets(out);
    assert.deepEqual([...out.subarray(-2)], [0xff, 0xd9], "ends at EOI");
    const meta = await sharp(out).metadata();
    assert.equal(meta.xmp, undefined);
    assert.equal(meta.exif, undefined);
    await assertSamePixels(input, out);
  });

  it("keeps orientation 6 as a minimal EXIF holding only the Orientation tag", async () => {
    const input = await sharp(await makeFaceImage({ width: 96, height: 64 }))
      .withExif(EXIF)
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const before = await sharp(input).metadata();
    assert.equal(before.orientation, 6);
    assert.ok(exifGpsEntryCount(before.exif) > 0);

    const out = stripMetadata(input, "image/jpeg");
    const after = await sharp(out).metadata();
    assert.equal(after.orientation, 6);
    assert.equal(exifGpsEntryCount(after.exif), 0);
    // "Exif\0\0" + 26-byte TIFF: header, IFD0 with one entry (0x0112), no next IFD.
    assert.equal(after.exif?.length, 32);
    assertNoSecrets(out);
    assert.ok(out.length <= input.length);
    await assertSamePixels(input, out);
    // Auto-orientation still turns it upright: 64x96 after rotating the 96x64 frame.
    const { info } = await sharp(out).autoOrient().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [64, 96]);
  });

  it("drops EXIF entirely when orientation is 1", async () => {
    const input = await sharp(await makeFaceImage({ width: 32, height: 32 }))
      .withExif(EXIF)
      .withMetadata({ orientation: 1 })
      .jpeg()
      .toBuffer();
    const out = stripMetadata(input, "image/jpeg");
    assert.equal((await sharp(out).metadata()).exif, undefined);
  });

  it("keeps ICC profiles", async () => {
    const input = await sharp(await makeFaceImage({ width: 32, height: 32 }))
      .withExif(EXIF)
      .withIccProfile("p3")
      .jpeg()
      .toBuffer();
    const before = await sharp(input).metadata();
    assert.ok(before.icc, "fixture has an ICC profile");
    const out = stripMetadata(input, "image/jpeg");
    const after = await sharp(out).metadata();
    assert.ok(after.icc && Buffer.from(after.icc).equals(Buffer.from(before.icc)));
    assert.equal(exifGpsEntryCount(after.exif), 0);
    await assertSamePixels(input, out);
  });

  it("keeps the Adobe APP14 segment of a CMYK JPEG", async () => {
    const input = await sharp(await makeFaceImage({ width: 32, height: 32 }))
      .withExif(EXIF)
      .toColourspace("cmyk")
      .jpeg()
      .toBuffer();
    assert.ok(jpegMarkers(input).includes(0xee), "fixture has APP14");
    const out = stripMetadata(input, "image/jpeg");
    assert.ok(jpegMarkers(out).includes(0xee));
    assert.equal((await sharp(out).metadata()).channels, 4);
    assertNoSecrets(out);
    await assertSamePixels(input, out);
  });

  it("copies progressive scans untouched and drops comments between them", async () => {
    const progressive = await sharp(await makeFaceImage({ width: 64, height: 64, background: "gradient-noise" }))
      .withExif(EXIF)
      .jpeg({ progressive: true })
      .toBuffer();
    // Put a COM segment before the second scan's tables (after the first scan's data).
    const firstScan = walkJpegSegments(progressive, () => false);
    assert.equal(firstScan.stop, "sos");
    let second = firstScan.offset;
    while (!(progressive[second] === 0xff && progressive[second + 1] !== 0 && !(progressive[second + 1]! >= 0xd0 && progressive[second + 1]! <= 0xd7)))
      second++;
    const input = Buffer.concat([progressive.subarray(0, second), jpegSegment(0xfe, Buffer.from("CommentSecret")), progressive.subarray(second)]);
    assert.ok(has(input, "CommentSecret"));
    await assertSamePixels(progressive, input); // the decoder ignores the comment

    const out = stripMetadata(input, "image/jpeg");
    assertNoSecrets(out);
    // Everything from the first SOS on is the progressive file's own bytes again.
    const outScan = walkJpegSegments(out, () => false);
    assert.ok(Buffer.from(out.subarray(outScan.offset)).equals(progressive.subarray(firstScan.offset)));
    await assertSamePixels(input, out);
  });
});

// ---------------------------------------------------------------- PNG

describe("stripMetadata: PNG", () => {
  it("drops eXIf, tEXt, zTXt, iTXt, tIME and keeps the other chunks byte for byte", async () => {
    const base = await sharp(await makeFaceImage({ width: 48, height: 48, format: "png" }))
      .withExif(EXIF)
      .withXmp(XMP)
      .png()
      .toBuffer();
    const input = insertAfterIhdr(
      base,
      pngChunk("tEXt", Buffer.from("Comment\0TextSecret")),
      pngChunk("iTXt", Buffer.from("Description\0\0\0en\0\0TextSecret")),
      pngChunk("tIME", Buffer.from([0x07, 0xe9, 1, 2, 3, 4, 5])),
    );
    // sharp writes EXIF as eXIf and XMP as zTXt "XML:com.adobe.xmp"; the others are added above.
    const inTypes = pngChunks(input).map((c) => c.type);
    for (const t of ["eXIf", "iTXt", "tEXt", "zTXt", "tIME"]) assert.ok(inTypes.includes(t), `fixture has ${t}`);

    const out = stripMetadata(input, "image/png");
    const kept = pngChunks(out);
    assert.deepEqual(
      kept.map((c) => c.type),
      inTypes.filter((t) => !["eXIf", "iTXt", "tEXt", "zTXt", "tIME"].includes(t)),
    );
    const original = pngChunks(input);
    for (const chunk of kept)
      assert.ok(
        original.some((c) => c.bytes.equals(chunk.bytes)),
        `${chunk.type} copied verbatim (CRC unchanged)`,
      );
    assertNoSecrets(out);
    const meta = await sharp(out).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(meta.xmp, undefined);
    assert.ok(
      kept.some((c) => c.type === "pHYs"),
      "pHYs kept",
    );
    await assertSamePixels(input, out);
  });

  it("keeps orientation 6 as a minimal eXIf", async () => {
    const input = await sharp(await makeFaceImage({ width: 48, height: 32, format: "png" }))
      .withExif(EXIF)
      .withMetadata({ orientation: 6 })
      .png()
      .toBuffer();
    assert.equal((await sharp(input).metadata()).orientation, 6);
    const out = stripMetadata(input, "image/png");
    const after = await sharp(out).metadata();
    assert.equal(after.orientation, 6);
    assert.equal(exifGpsEntryCount(after.exif), 0);
    assertNoSecrets(out);
    await assertSamePixels(input, out);
  });

  it("drops data after IEND", async () => {
    const png = await makeFaceImage({ width: 16, height: 16, format: "png" });
    const out = stripMetadata(Buffer.concat([png, Buffer.from("TrailerSecret")]), "image/png");
    assert.ok(Buffer.from(out).equals(png));
  });
});

// ---------------------------------------------------------------- WebP

describe("stripMetadata: WebP", () => {
  it("drops EXIF and XMP from a VP8X file, clears their flags and fixes the RIFF size", async () => {
    const input = await sharp(await makeFaceImage({ width: 48, height: 48, format: "png" }))
      .withExif(EXIF)
      .withXmp(XMP)
      .webp()
      .toBuffer();
    const inChunks = webpChunks(input);
    assert.equal(inChunks[0]!.fourcc, "VP8X");
    assert.ok(inChunks.some((c) => c.fourcc === "EXIF") && inChunks.some((c) => c.fourcc === "XMP "));

    const out = stripMetadata(input, "image/webp");
    const chunks = webpChunks(out);
    assert.deepEqual(
      chunks.map((c) => c.fourcc),
      inChunks.map((c) => c.fourcc).filter((f) => f !== "EXIF" && f !== "XMP "),
    );
    assert.equal(chunks[0]!.data[0]! & 0x0c, 0, "EXIF and XMP flags cleared");
    assert.equal(Buffer.from(out).readUInt32LE(4), out.length - 8);
    assertNoSecrets(out);
    const meta = await sharp(out).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(meta.xmp, undefined);
    await assertSamePixels(input, out);
  });

  it("keeps orientation 6 as a minimal EXIF chunk", async () => {
    const input = await sharp(await makeFaceImage({ width: 48, height: 32, format: "png" }))
      .withExif(EXIF)
      .withMetadata({ orientation: 6 })
      .webp()
      .toBuffer();
    assert.equal((await sharp(input).metadata()).orientation, 6);
    const out = stripMetadata(input, "image/webp");
    const after = await sharp(out).metadata();
    assert.equal(after.orientation, 6);
    assert.equal(exifGpsEntryCount(after.exif), 0);
    assert.equal(webpChunks(out)[0]!.data[0]! & 0x08, 0x08, "EXIF flag still set");
    assertNoSecrets(out);
    await assertSamePixels(input, out);
  });

  it("leaves simple VP8 and VP8L files as they are", async () => {
    for (const lossless of [false, true]) {
      const input = await makeFaceImage({ width: 32, height: 32, format: "webp", lossless });
      assert.ok(Buffer.from(stripMetadata(input, "image/webp")).equals(input));
    }
  });
});

describe("stripMetadata: copies only when something goes", () => {
  it("hands back a JPEG, PNG or WebP with nothing to remove as the same bytes; never modifies its input", async () => {
    for (const [format, background] of [
      ["jpeg", undefined],
      ["png", undefined],
      ["webp", undefined],
      ["webp", "transparent"],
    ] as const) {
      const clean = await makeFaceImage({ width: 32, height: 32, format, ...(background && { background }) });
      const mime = `image/${format}` as ImageMime;
      assert.equal(stripMetadata(clean, mime), clean, `${format} ${background ?? ""}: nothing to remove, no copy`);

      const tagged = await sharp(clean).withExif(EXIF).withXmp(XMP).toFormat(format).toBuffer();
      const before = Buffer.from(tagged);
      const out = stripMetadata(tagged, mime);
      assert.notEqual(out, tagged);
      assert.ok(tagged.equals(before), `${format}: the input is left as it was`);
      assertNoSecrets(out);
      await assertSamePixels(tagged, out);
    }
  });
});

// ---------------------------------------------------------------- HEIF (ISO-BMFF)

function box(type: string, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, body]);
}
const fullBox = (type: string, version: number, ...content: Buffer[]) => box(type, Buffer.from([version, 0, 0, 0]), ...content);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
/** iinf with one infe v2 of type Exif. */
const exifItemInfo = (itemId: number) => fullBox("iinf", 0, Buffer.from([0, 1]), fullBox("infe", 2, Buffer.from([0, itemId, 0, 0]), Buffer.from("Exif\0")));
/** makeHeicHeader's ftyp, then a meta box of our own (found first), then the rest of the header. */
function heifWithMeta(...children: Buffer[]): Buffer {
  const header = makeHeicHeader(64, 64);
  const ftypEnd = header.readUInt32BE(0);
  return Buffer.concat([header.subarray(0, ftypEnd), fullBox("meta", 0, ...children), header.subarray(ftypEnd)]);
}

describe("stripMetadata: HEIC/HEIF", () => {
  // sharp can't encode HEVC; AVIF is the same HEIF container (meta/iinf/iloc, Exif and XMP items).
  it("neutralises Exif and XMP items in place, length unchanged, pixels identical", async () => {
    const input = await sharp(await makeFaceImage({ width: 48, height: 48, format: "png" }))
      .withExif(EXIF)
      .withXmp(XMP)
      .avif()
      .toBuffer();
    const before = await sharp(input).metadata();
    assert.ok(exifGpsEntryCount(before.exif) > 0 && before.xmp, "fixture has Exif with GPS and XMP");

    const out = stripMetadata(input, "image/heif");
    assert.equal(out.length, input.length);
    assertNoSecrets(out);
    const after = await sharp(out).metadata();
    assert.equal(exifGpsEntryCount(after.exif), 0);
    assert.ok(!after.xmp || !Buffer.from(after.xmp).includes("XmpSecretCreator"));
    await assertSamePixels(input, out);
  });

  it("neutralises an Exif item stored in idat (construction method 1)", () => {
    const exifPayload = Buffer.concat([Buffer.from([0, 0, 0, 6]), Buffer.from("Exif\0\0MM\0*FixtureCam-GPS-payload")]);
    // iloc v1: offset_size 4, length_size 4, base_offset_size 0, index_size 0; one item (7), method 1.
    const iloc = fullBox("iloc", 1, Buffer.from([0x44, 0x00, 0, 1, 0, 7, 0, 1, 0, 0, 0, 1]), u32(3), u32(exifPayload.length));
    const file = heifWithMeta(exifItemInfo(7), iloc, box("idat", Buffer.from("pad"), exifPayload));

    const out = stripMetadata(file, "image/heic");
    assert.equal(out.length, file.length);
    assert.equal(has(out, "FixtureCam"), false);
    const at = Buffer.from(out).indexOf("pad") + 3;
    assert.ok(at > 3, "bytes before the item are untouched");
    assert.deepEqual([...out.subarray(at, at + 24)], [0, 0, 0, 6, ...Buffer.from("Exif\0\0MM\0*"), 0, 0, 0, 8, 0, 0, 0, 0, 0, 0]);
    assert.ok(out.subarray(at + 24, at + exifPayload.length).every((b) => b === 0));
  });

  it("returns a copy of a file without metadata items", () => {
    const input = makeHeicHeader(640, 480);
    const out = stripMetadata(input, "image/heic");
    assert.ok(Buffer.from(out).equals(input));
    out[0] = 0xaa; // a copy, not a view of the caller's bytes
    assert.equal(input[0], 0);
  });
});

// ---------------------------------------------------------------- hostile input

describe("stripMetadata: hostile input", () => {
  const MIMES: ImageMime[] = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];

  /** Either a result no larger than the input (plus a minimal orientation EXIF), or image-unreadable. */
  function strippedOrUnreadable(bytes: Uint8Array, mime: ImageMime): void {
    let out: Uint8Array;
    try {
      out = stripMetadata(bytes, mime);
    } catch (error) {
      assert.ok(error instanceof AppError, `threw ${String(error)}`);
      assert.equal(error.code, "invalid-argument");
      assert.equal(error.reason, "image-unreadable");
      return;
    }
    assert.ok(out.length <= bytes.length + 38, `${mime}: output grew from ${bytes.length} to ${out.length}`);
  }

  it("refuses garbage and mislabelled bytes with image-unreadable", async () => {
    const jpeg = await makeFaceImage({ width: 16, height: 16 });
    const samples = [Buffer.alloc(0), Buffer.from("hello"), Buffer.alloc(64, 0xff), jpeg];
    for (const mime of MIMES) {
      for (const sample of samples) {
        if (sample === jpeg && mime === "image/jpeg") continue;
        assert.throws(
          () => stripMetadata(sample, mime),
          (e) => e instanceof AppError && e.reason === "image-unreadable",
          `${mime}`,
        );
      }
    }
  });

  it("never crashes on truncated or bit-flipped files", async () => {
    const face = await makeFaceImage({ width: 24, height: 24, format: "png" });
    const orient = (s: sharp.Sharp) => s.withExif(EXIF).withXmp(XMP).withMetadata({ orientation: 6 });
    const files: [Buffer, ImageMime][] = [
      [await orient(sharp(face)).jpeg().toBuffer(), "image/jpeg"],
      [await orient(sharp(face)).png().toBuffer(), "image/png"],
      [await orient(sharp(face)).webp().toBuffer(), "image/webp"],
      [await orient(sharp(face)).avif().toBuffer(), "image/heif"],
      [makeHeicHeader(64, 64, { withThumbnail: true }), "image/heic"],
    ];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const [file, mime] of files) {
      for (let keep = 0; keep <= file.length; keep++) strippedOrUnreadable(file.subarray(0, keep), mime);
      for (let round = 0; round < 300; round++) {
        const mutated = Buffer.from(file);
        for (let k = 0; k < 4; k++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        strippedOrUnreadable(mutated, mime);
      }
    }
  });

  it("bounds work on hostile lengths (huge declared sizes, zero-length loops)", () => {
    const riff = Buffer.concat([Buffer.from("RIFF"), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from("WEBPVP8X"), Buffer.alloc(10)]);
    strippedOrUnreadable(riff, "image/webp");
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from("IHDR")]);
    strippedOrUnreadable(png, "image/png");
    // A JPEG of SOI and nothing but fill bytes and restart markers.
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(100_000, 0xff), Buffer.from([0xd0])]);
    strippedOrUnreadable(jpeg, "image/jpeg");
    // iloc v2 claiming 2^32-1 items, and an Exif extent far beyond the data.
    strippedOrUnreadable(heifWithMeta(exifItemInfo(1), fullBox("iloc", 2, Buffer.from([0x44, 0]), u32(0xffffffff))), "image/heic");
    const far = fullBox("iloc", 0, Buffer.from([0x44, 0, 0, 1, 0, 1, 0, 0, 0, 1]), u32(0xfffffff0), u32(0xffffffff));
    const file = heifWithMeta(exifItemInfo(1), far);
    assert.ok(Buffer.from(stripMetadata(file, "image/heic")).equals(file));
    // Many Exif items all claiming the whole file: the work is capped, not items x file size.
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    const infes = ids.map((id) => fullBox("infe", 2, Buffer.from([0, id, 0, 0]), Buffer.from("Exif\0")));
    const entries = ids.map((id) => Buffer.from([0, id, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    const overlapping = heifWithMeta(
      fullBox("iinf", 0, Buffer.from([0, ids.length]), ...infes),
      fullBox("iloc", 0, Buffer.from([0x44, 0, 0, ids.length]), ...entries),
    );
    strippedOrUnreadable(overlapping, "image/heic");
  });
});

describe("prepareInputImage", () => {
  const limits = { maxBytes: 10_000_000, maxPixels: 50_000_000 };

  it("validates, then hands out stripped bytes with the header's dimensions", async () => {
    const input = await withExifGps(await makeFaceImage({ width: 96, height: 64 }));
    const image = await prepareInputImage(input, "image/jpg", limits);
    assert.equal(image.mime, "image/jpeg");
    assert.deepEqual([image.width, image.height], [96, 64]);
    assert.equal(exifGpsEntryCount((await sharp(image.bytes).metadata()).exif), 0);
    assertNoSecrets(image.bytes);
  });

  it("still refuses what validation refuses, before stripping", async () => {
    await assert.rejects(prepareInputImage(Buffer.from("hello"), "image/png", limits), (e) => e instanceof AppError && e.reason === "image-not-an-image");
  });
});
