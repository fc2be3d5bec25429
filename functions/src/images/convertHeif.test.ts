import assert from "node:assert/strict";
import { describe, it } from "node:test";
import sharp from "sharp";
import { AppError } from "../errors.js";
import { HEIC_EXIF_MAKE, makeHeicImage, type SyntheticHeic } from "../../test/fixtures/heic.js";
import { exifGpsEntryCount, makeHeicHeader } from "../../test/fixtures/images.js";
import { convertHeifToJpeg, heifDecoderStats } from "./convertHeif.js";
import { inspectImage, prepareInputImage } from "./validate.js";

const LIMITS = { maxBytes: 15_000_000, maxPixels: 40_000_000 };

/** Mean absolute difference per sample between a JPEG and an sRGB raster of the same size. */
async function meanDifference(jpeg: Uint8Array, expected: { data: Buffer; width: number; height: number }): Promise<number> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [expected.width, expected.height, 3]);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Math.abs(data[i]! - expected.data[i]!);
  return sum / data.length;
}

async function rejectsWith(promise: Promise<unknown>, reason: string): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected ${reason}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, `not an AppError: ${String(error)}`);
  assert.equal(error.code, "invalid-argument");
  assert.equal(error.reason, reason);
  return error;
}

describe("HEIC/HEIF inputs become JPEG at ingest", () => {
  let face: SyntheticHeic;
  const heic = async () => (face ??= await makeHeicImage({ width: 256, height: 192 }));

  it("validate -> convert: a JPEG of the same size whose pixels match the source, no metadata", async () => {
    const { heic: bytes, source } = await heic();
    assert.deepEqual(inspectImage(bytes, "image/heic", LIMITS), { mime: "image/heic", width: 256, height: 192 });

    const image = await prepareInputImage(bytes, "image/heic", LIMITS);
    assert.equal(image.mime, "image/jpeg");
    assert.deepEqual([image.width, image.height], [256, 192]);
    const meta = await sharp(image.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 256, 192]);
    assert.equal(meta.exif, undefined);
    assert.equal(meta.xmp, undefined);
    assert.equal(meta.icc, undefined);
    assert.equal(meta.orientation, undefined);
    // A cartoon face at crf 12, then JPEG 92: each sample within a few levels on average.
    const difference = await meanDifference(image.bytes, source);
    assert.ok(difference < 4, `mean difference ${difference.toFixed(2)}`);
    assert.equal(heifDecoderStats().live, 0, "the decoder thread has ended");
  });

  it("the image/heif label is converted the same way", async () => {
    const image = await prepareInputImage((await heic()).heic, "image/heif", LIMITS);
    assert.deepEqual([image.mime, image.width, image.height], ["image/jpeg", 256, 192]);
  });

  it("applies the container's rotation (irot) to the pixels: the header says 256x192, the JPEG is 192x256", async () => {
    const { heic: bytes, source } = await makeHeicImage({ width: 256, height: 192, rotateAnticlockwise: 90 });
    assert.deepEqual(inspectImage(bytes, "image/heic", LIMITS), { mime: "image/heic", width: 256, height: 192 });
    const image = await prepareInputImage(bytes, "image/heic", LIMITS);
    assert.deepEqual([image.width, image.height], [192, 256]);
    const raw = { width: source.width, height: source.height, channels: 3 } as const;
    const turned = await sharp(source.data, { raw }).rotate(-90).raw().toBuffer();
    const difference = await meanDifference(image.bytes, { data: turned, width: 192, height: 256 });
    assert.ok(difference < 4, `mean difference ${difference.toFixed(2)}: upright as the phone showed it`);
  });

  it("decodes a grid of tiles as iPhones write it, cropped to the grid's output size", async () => {
    // 2x2 tiles of 128x128 (coded 256x256), output 256x192: the bottom row is cropped.
    const { heic: bytes, source } = await makeHeicImage({ width: 256, height: 192, tileSize: { width: 128, height: 128 } });
    assert.ok(bytes.includes("grid") && bytes.includes("dimg"), "the fixture is a grid");
    assert.deepEqual(inspectImage(bytes, "image/heic", LIMITS), { mime: "image/heic", width: 256, height: 192 });
    const image = await prepareInputImage(bytes, "image/heic", LIMITS);
    assert.deepEqual([image.mime, image.width, image.height], ["image/jpeg", 256, 192]);
    const difference = await meanDifference(image.bytes, source);
    assert.ok(difference < 4, `mean difference ${difference.toFixed(2)}: tiles in the right places`);
  });

  it("drops the Exif item with its GPS position: the JPEG has no metadata and no trace of the camera", async () => {
    const { heic: bytes } = await makeHeicImage({ withExifGps: true });
    assert.ok(bytes.includes(HEIC_EXIF_MAKE), "the fixture carries an Exif item");
    assert.ok(exifGpsEntryCount((await sharp(bytes).metadata()).exif) > 0, "with a GPS position libvips can read");
    const image = await prepareInputImage(bytes, "image/heic", LIMITS);
    const meta = await sharp(image.bytes).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(Buffer.from(image.bytes).includes(HEIC_EXIF_MAKE), false);
  });

  it("decodes 10-bit (Main 10) HEIC to an 8-bit JPEG", async () => {
    const { heic: bytes, source } = await makeHeicImage({ bitDepth: 10 });
    const image = await prepareInputImage(bytes, "image/heic", LIMITS);
    const difference = await meanDifference(image.bytes, source);
    assert.ok(difference < 4, `mean difference ${difference.toFixed(2)}`);
  });

  it("a HEIC whose pixels cannot be decoded is image-undecodable, and no decoder thread is left", async () => {
    const { heic: bytes } = await heic();
    const mdat = bytes.indexOf("mdat") + 4;
    const garbledSlices = Buffer.from(bytes);
    for (let i = mdat + 4; i < garbledSlices.length; i++) garbledSlices[i] = (i * 7919) & 0xff;
    const garbledParameterSets = Buffer.from(bytes);
    const hvcC = garbledParameterSets.indexOf("hvcC");
    garbledParameterSets.fill(0xff, hvcC + 40, hvcC + 80);
    // Passes every header check (sniffing, ispe, boxes within the data) but has no coded picture.
    const headerOnly = makeHeicHeader(640, 480);
    for (const broken of [garbledSlices, garbledParameterSets, headerOnly]) {
      assert.doesNotThrow(() => inspectImage(broken, "image/heic", LIMITS), "validation alone cannot tell");
      const error = await rejectsWith(prepareInputImage(broken, "image/heic", LIMITS), "image-undecodable");
      assert.match(error.message, /^image could not be decoded/);
    }
    assert.equal(heifDecoderStats().live, 0);
  });

  it("a HEIF with a codec other than HEVC inside (AV1 under generic brands) is image-unsupported-type", async () => {
    const avif = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#808080" } })
      .avif()
      .toBuffer();
    const ftypEnd = avif.readUInt32BE(0);
    // Same bytes, but the ftyp no longer says "avif": sniffing takes it for a generic HEIF.
    const generic = Buffer.concat([Buffer.from(avif.subarray(0, ftypEnd).toString("latin1").replaceAll("avif", "mif1"), "latin1"), avif.subarray(ftypEnd)]);
    assert.equal(inspectImage(generic, "image/heif", LIMITS).mime, "image/heif");
    const error = await rejectsWith(prepareInputImage(generic, "image/heif", LIMITS), "image-unsupported-type");
    assert.match(error.message, /unsupported codec/);
  });

  it("a decode that overruns its time is stopped and reported as image-undecodable", async () => {
    const { heic: bytes } = await heic();
    const image = { bytes, mime: "image/heic", width: 256, height: 192 } as const;
    await rejectsWith(convertHeifToJpeg(image, { maxPixels: LIMITS.maxPixels, timeoutMs: 1 }), "image-undecodable");
    assert.equal(heifDecoderStats().live, 0, "the thread was terminated");
  });

  it("pixel bombs are refused from the header, before any decoder starts", async () => {
    const started = heifDecoderStats().started;
    await rejectsWith(prepareInputImage(makeHeicHeader(20_000, 20_000), "image/heic", LIMITS), "image-too-many-pixels");
    // A real HEIC over a smaller cap: the header check refuses it too.
    await rejectsWith(prepareInputImage((await heic()).heic, "image/heic", { ...LIMITS, maxPixels: 256 * 192 - 1 }), "image-too-many-pixels");
    assert.equal(heifDecoderStats().started, started, "no decoder was started");
  });

  it("the decoder checks the cap again on libheif's own size (a file whose header reader and libheif disagree)", async () => {
    const { heic: bytes } = await heic();
    const image = { bytes, mime: "image/heic", width: 16, height: 16 } as const; // what a lying header would give
    await rejectsWith(convertHeifToJpeg(image, { maxPixels: 1_000 }), "image-too-many-pixels");
  });

  it("a coded picture far larger than its ispe is refused by the decoder (libheif's security limit)", async () => {
    const { heic: bytes } = await makeHeicImage({ width: 512, height: 384 });
    const lying = Buffer.from(bytes);
    const ispe = lying.indexOf("ispe") + 8;
    lying.writeUInt32BE(64, ispe);
    lying.writeUInt32BE(48, ispe + 4);
    assert.deepEqual(inspectImage(lying, "image/heic", LIMITS), { mime: "image/heic", width: 64, height: 48 });
    await rejectsWith(prepareInputImage(lying, "image/heic", LIMITS), "image-undecodable");
  });

  it("conversions run one at a time: concurrent HEIC jobs never hold two decoders' memory", async () => {
    const { heic: bytes } = await heic();
    const before = heifDecoderStats();
    const images = await Promise.all([1, 2, 3].map(() => prepareInputImage(bytes, "image/heic", LIMITS)));
    assert.ok(images.every((i) => i.mime === "image/jpeg"));
    const after = heifDecoderStats();
    assert.equal(after.started - before.started, 3);
    assert.equal(after.peakLive, 1);
  });
});
