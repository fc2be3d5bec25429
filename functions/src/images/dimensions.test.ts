import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { makeBombJpeg, makeBombPng, makeFaceImage, makeHeicHeader, NON_IMAGES, withExifGps } from "../../test/fixtures/images.js";
import type { ImageMime } from "../providers/types.js";
import { ascii } from "./bytes.js";
import { readImageDimensions } from "./dimensions.js";

const W = 300;
const H = 200; // not square: catches swapped width/height

test("JPEG: baseline, progressive, with EXIF before the frame header", async () => {
  const baseline = await makeFaceImage({ width: W, height: H, format: "jpeg" });
  const progressive = await sharp(baseline).jpeg({ progressive: true }).toBuffer();
  const exif = await withExifGps(baseline);
  for (const bytes of [baseline, progressive, exif]) {
    assert.deepEqual(readImageDimensions(bytes, "image/jpeg"), { width: W, height: H });
  }
});

test("JPEG: fill bytes before a marker are skipped", async () => {
  const jpeg = await makeFaceImage({ width: W, height: H, format: "jpeg" });
  const padded = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xff, 0xff]), jpeg.subarray(2)]);
  assert.deepEqual(readImageDimensions(padded, "image/jpeg"), { width: W, height: H });
});

test("PNG: IHDR", async () => {
  const png = await makeFaceImage({ width: W, height: H, format: "png" });
  assert.deepEqual(readImageDimensions(png, "image/png"), { width: W, height: H });
});

test("WebP: lossy VP8, lossless VP8L and extended VP8X", async () => {
  const cases = [
    ["VP8 ", await makeFaceImage({ width: W, height: H, format: "webp" })],
    ["VP8L", await makeFaceImage({ width: W, height: H, format: "webp", lossless: true })],
    ["VP8X", await makeFaceImage({ width: W, height: H, format: "webp", background: "transparent" })],
  ] as const;
  for (const [chunk, bytes] of cases) {
    assert.equal(ascii(bytes, 12, 4), chunk, "fixture has the intended chunk");
    assert.deepEqual(readImageDimensions(bytes, "image/webp"), { width: W, height: H }, chunk);
  }
});

test("HEIC: the primary item's ispe, or the largest when items are not associated", () => {
  assert.deepEqual(readImageDimensions(makeHeicHeader(4032, 3024), "image/heic"), { width: 4032, height: 3024 });
  const withThumb = makeHeicHeader(4032, 3024, { withThumbnail: true });
  assert.deepEqual(readImageDimensions(withThumb, "image/heic"), { width: 4032, height: 3024 });
  // Break ipma's type so no association can be read: falls back to the largest ispe.
  const noIpma = Buffer.from(withThumb);
  noIpma.write("xxxx", noIpma.indexOf("ipma"), "latin1");
  assert.deepEqual(readImageDimensions(noIpma, "image/heif"), { width: 4032, height: 3024 });
});

test("bombs: huge declared sizes are read from the header, nothing decoded", async () => {
  assert.deepEqual(readImageDimensions(makeBombPng(100_000, 100_000), "image/png"), { width: 100_000, height: 100_000 });
  assert.deepEqual(readImageDimensions(await makeBombJpeg(65_000, 65_000), "image/jpeg"), { width: 65_000, height: 65_000 });
  assert.deepEqual(readImageDimensions(makeHeicHeader(90_000, 90_000), "image/heic"), { width: 90_000, height: 90_000 });
});

test("garbage and every truncation never throw", async () => {
  const samples: [ImageMime, Uint8Array][] = [
    ["image/jpeg", await makeFaceImage({ width: 32, height: 24, format: "jpeg" })],
    ["image/png", await makeFaceImage({ width: 32, height: 24, format: "png" })],
    ["image/webp", await makeFaceImage({ width: 32, height: 24, format: "webp" })],
    ["image/heic", makeHeicHeader(32, 24, { withThumbnail: true })],
  ];
  for (const [mime, bytes] of samples) {
    for (let n = 0; n <= Math.min(bytes.length, 400); n++) {
      const dims = readImageDimensions(bytes.subarray(0, n), mime);
      assert.ok(dims === undefined || (dims.width > 0 && dims.height > 0), `${mime} cut at ${n}`);
    }
    for (const other of Object.values(NON_IMAGES)) assert.equal(readImageDimensions(other, mime), undefined);
  }
});

test("hostile structures: zero-length segments, oversized boxes, zero sizes", () => {
  const jpegZeroLength = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00, 0xff, 0xc0]);
  assert.equal(readImageDimensions(jpegZeroLength, "image/jpeg"), undefined);
  const jpegSosFirst = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xc0, 0x00, 0x11, 8, 0, 10, 0, 10]);
  assert.equal(readImageDimensions(jpegSosFirst, "image/jpeg"), undefined);
  const jpegHeightZero = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 8, 0, 0, 0, 10]);
  assert.equal(readImageDimensions(jpegHeightZero, "image/jpeg"), undefined);
  const allFill = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(10_000, 0xff)]);
  assert.equal(readImageDimensions(allFill, "image/jpeg"), undefined);

  // meta box with a 64-bit size far beyond the data, and a box of size 0 (to end of file)
  const huge = Buffer.concat([
    makeHeicHeader(10, 10).subarray(0, 24),
    Buffer.from([0, 0, 0, 1, ...Buffer.from("meta"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
  ]);
  assert.equal(readImageDimensions(huge, "image/heic"), undefined);
  const zero = Buffer.concat([makeHeicHeader(10, 10).subarray(0, 24), Buffer.from([0, 0, 0, 0, ...Buffer.from("meta")])]);
  assert.equal(readImageDimensions(zero, "image/heic"), undefined);
  // Thousands of tiny boxes: bounded
  const many = Buffer.concat([makeHeicHeader(10, 10).subarray(0, 24), Buffer.alloc(8 * 50_000)]);
  for (let i = 24; i < many.length; i += 8) many.writeUInt32BE(8, i);
  assert.equal(readImageDimensions(many, "image/heic"), undefined);
});
