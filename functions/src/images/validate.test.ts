import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { AppError } from "../errors.js";
import { makeBombJpeg, makeBombPng, makeFaceImage, makeHeicHeader, NON_IMAGES, truncate } from "../../test/fixtures/images.js";
import { ACCEPTED_MIME_TYPES, inspectImage, normaliseDeclaredMime } from "./validate.js";

const LIMITS = { maxBytes: 15_000_000, maxPixels: 40_000_000 };

/** Asserts an AppError('invalid-argument') with `reason`, a message about `image`, and no data in it. */
function rejects(fn: () => unknown, reason: string, forbidden: string[] = []): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${reason}`);
  assert.equal(caught.code, "invalid-argument");
  assert.equal(caught.reason, reason);
  assert.match(caught.message, /^image\b/);
  for (const text of forbidden) assert.ok(!caught.message.includes(text), `message leaks ${text}`);
  return caught;
}

test("accepts each supported type and reports header dimensions", async () => {
  for (const [format, mime] of [
    ["jpeg", "image/jpeg"],
    ["png", "image/png"],
    ["webp", "image/webp"],
  ] as const) {
    const bytes = await makeFaceImage({ width: 120, height: 80, format });
    assert.deepEqual(inspectImage(bytes, mime, LIMITS), { mime, width: 120, height: 80 });
  }
  assert.deepEqual(inspectImage(makeHeicHeader(4032, 3024), "image/heic", LIMITS), {
    mime: "image/heic",
    width: 4032,
    height: 3024,
  });
  assert.deepEqual(ACCEPTED_MIME_TYPES, ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"]);
});

test("image/jpg is an alias; case and parameters are ignored; heic/heif labels are interchangeable", async () => {
  const jpeg = await makeFaceImage({ width: 64, height: 64 });
  assert.equal(inspectImage(jpeg, "image/jpg", LIMITS).mime, "image/jpeg");
  assert.equal(inspectImage(jpeg, " IMAGE/JPEG; q=1", LIMITS).mime, "image/jpeg");
  assert.equal(inspectImage(makeHeicHeader(10, 10), "image/heif", LIMITS).mime, "image/heic");
  assert.equal(normaliseDeclaredMime("image/gif"), undefined);
});

test("image-empty and image-too-large", async () => {
  rejects(() => inspectImage(new Uint8Array(), "image/jpeg", LIMITS), "image-empty");
  const jpeg = await makeFaceImage({ width: 64, height: 64 });
  const err = rejects(() => inspectImage(jpeg, "image/jpeg", { ...LIMITS, maxBytes: jpeg.length - 1 }), "image-too-large");
  assert.match(err.message, /limit/);
});

test("image-not-an-image names what the bytes look like, never the bytes", () => {
  for (const [kind, bytes] of Object.entries(NON_IMAGES)) {
    const err = rejects(() => inspectImage(bytes, "image/png", LIMITS), "image-not-an-image", ["<", "%PDF", "hello"]);
    assert.equal(err.message, `image is not an image (looks like ${kind})`);
  }
});

test("image-unsupported-type: a GIF, or a declared type we do not take", async () => {
  const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } })
    .gif()
    .toBuffer();
  const err = rejects(() => inspectImage(gif, "image/gif", LIMITS), "image-unsupported-type");
  assert.match(err.message, /gif/);
  const png = await makeFaceImage({ width: 16, height: 16, format: "png" });
  rejects(() => inspectImage(png, "image/gif", LIMITS), "image-unsupported-type");
  rejects(() => inspectImage(png, "<script>alert(1)</script>", LIMITS), "image-unsupported-type", ["<script>"]);
});

test("image-type-mismatch: declared type differs from the content", async () => {
  const png = await makeFaceImage({ width: 16, height: 16, format: "png" });
  const err = rejects(() => inspectImage(png, "image/jpeg", LIMITS), "image-type-mismatch");
  assert.match(err.message, /image\/png/);
  rejects(() => inspectImage(makeHeicHeader(10, 10), "image/webp", LIMITS), "image-type-mismatch");
});

test("image-truncated for JPEG, PNG, WebP and HEIF cut short", async () => {
  const jpeg = await makeFaceImage({ width: 64, height: 64, format: "jpeg" });
  const png = await makeFaceImage({ width: 64, height: 64, format: "png" });
  const webp = await makeFaceImage({ width: 64, height: 64, format: "webp" });
  const heic = makeHeicHeader(64, 64);
  rejects(() => inspectImage(truncate(jpeg, jpeg.length - 200), "image/jpeg", LIMITS), "image-truncated");
  rejects(() => inspectImage(truncate(jpeg, jpeg.length - 1), "image/jpeg", LIMITS), "image-truncated");
  rejects(() => inspectImage(truncate(png, png.length - 1), "image/png", LIMITS), "image-truncated");
  rejects(() => inspectImage(truncate(webp, webp.length - 10), "image/webp", LIMITS), "image-truncated");
  rejects(() => inspectImage(truncate(heic, heic.length - 4), "image/heic", LIMITS), "image-truncated");
  // Truncated and then zero-padded (as some transports do) is still truncated.
  const padded = Buffer.concat([truncate(jpeg, jpeg.length - 200), Buffer.alloc(200)]);
  rejects(() => inspectImage(padded, "image/jpeg", LIMITS), "image-truncated");
});

test("complete files with zero padding or data after EOI are not truncated", async () => {
  const jpeg = await makeFaceImage({ width: 64, height: 64, format: "jpeg" });
  const progressive = await sharp(jpeg).jpeg({ progressive: true }).toBuffer();
  const png = await makeFaceImage({ width: 64, height: 64, format: "png" });
  assert.equal(inspectImage(Buffer.concat([jpeg, Buffer.alloc(64)]), "image/jpeg", LIMITS).mime, "image/jpeg");
  assert.equal(inspectImage(progressive, "image/jpeg", LIMITS).mime, "image/jpeg");
  // A motion-photo style trailer after EOI
  assert.equal(inspectImage(Buffer.concat([jpeg, Buffer.from("ftypmp42 trailer")]), "image/jpeg", LIMITS).width, 64);
  assert.equal(inspectImage(Buffer.concat([png, Buffer.alloc(16)]), "image/png", LIMITS).mime, "image/png");
});

test("image-dimensions-unreadable when the header is damaged", async () => {
  const png = await makeFaceImage({ width: 16, height: 16, format: "png" });
  const noIhdr = Buffer.from(png);
  noIhdr.write("XXXX", 12, "latin1");
  rejects(() => inspectImage(noIhdr, "image/png", LIMITS), "image-dimensions-unreadable");
  const sosFirst = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x00, 0xff, 0xd9]);
  rejects(() => inspectImage(sosFirst, "image/jpeg", LIMITS), "image-dimensions-unreadable");
  rejects(() => inspectImage(truncate(makeHeicHeader(10, 10), 40), "image/heic", LIMITS), "image-dimensions-unreadable");
});

test("image-too-many-pixels for decompression bombs, before any decoding", async () => {
  rejects(() => inspectImage(makeBombPng(100_000, 100_000), "image/png", LIMITS), "image-too-many-pixels");
  const bombJpeg = await makeBombJpeg(65_000, 65_000);
  rejects(() => inspectImage(bombJpeg, "image/jpeg", LIMITS), "image-too-many-pixels");
  rejects(() => inspectImage(makeHeicHeader(20_000, 20_000), "image/heic", LIMITS), "image-too-many-pixels");
  const jpeg = await makeFaceImage({ width: 100, height: 100 });
  rejects(() => inspectImage(jpeg, "image/jpeg", { ...LIMITS, maxPixels: 9_999 }), "image-too-many-pixels");
  assert.equal(inspectImage(jpeg, "image/jpeg", { ...LIMITS, maxPixels: 10_000 }).width, 100);
});

test("a tiny JPEG whose header claims millions of pixels under the cap is refused before any decode", async () => {
  const { makeBombJpeg } = await import("../../test/fixtures/images.js");
  const bomb = await makeBombJpeg(6000, 6000); // 36 MP: under the 40 MP cap, a few hundred bytes
  assert.throws(
    () => inspectImage(bomb, "image/jpeg", { maxBytes: 15e6, maxPixels: 40e6 }),
    (e: AppError) => e.reason === "image-truncated",
  );
});
