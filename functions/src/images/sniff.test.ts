import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { makeFaceImage, makeHeicHeader, NON_IMAGES } from "../../test/fixtures/images.js";
import { describeNonImage, sniffImageType } from "./sniff.js";

test("sniffs JPEG, PNG and WebP by their magic numbers", async () => {
  for (const [format, mime] of [
    ["jpeg", "image/jpeg"],
    ["png", "image/png"],
    ["webp", "image/webp"],
  ] as const) {
    assert.equal(sniffImageType(await makeFaceImage({ width: 64, height: 64, format })), mime);
  }
});

test("sniffs HEIC vs HEIF from the ftyp brands", () => {
  assert.equal(sniffImageType(makeHeicHeader(100, 100)), "image/heic");
  assert.equal(sniffImageType(makeHeicHeader(100, 100, { majorBrand: "heix", compatibleBrands: [] })), "image/heic");
  // Generic major brand with an HEVC brand among the compatible ones: still HEIC.
  assert.equal(sniffImageType(makeHeicHeader(100, 100, { majorBrand: "mif1", compatibleBrands: ["heic"] })), "image/heic");
  assert.equal(sniffImageType(makeHeicHeader(100, 100, { majorBrand: "mif1", compatibleBrands: ["miaf"] })), "image/heif");
  assert.equal(sniffImageType(makeHeicHeader(100, 100, { majorBrand: "msf1", compatibleBrands: [] })), "image/heif");
});

test("AVIF and MP4 share the container but are not accepted images", () => {
  const avif = makeHeicHeader(100, 100, { majorBrand: "avif", compatibleBrands: ["mif1", "miaf"] });
  assert.equal(sniffImageType(avif), undefined);
  assert.equal(describeNonImage(avif), "avif");
  const mp4 = makeHeicHeader(100, 100, { majorBrand: "isom", compatibleBrands: ["mp41"] });
  assert.equal(sniffImageType(mp4), undefined);
  assert.equal(describeNonImage(mp4), "video");
});

test("non-images are not sniffed as images and get a fixed label", () => {
  for (const [kind, bytes] of Object.entries(NON_IMAGES)) {
    assert.equal(sniffImageType(bytes), undefined, kind);
    assert.equal(describeNonImage(bytes), kind);
  }
});

test("describeNonImage labels other formats and binary noise", async () => {
  const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } })
    .gif()
    .toBuffer();
  const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } })
    .tiff()
    .toBuffer();
  assert.equal(describeNonImage(gif), "gif");
  assert.equal(describeNonImage(tiff), "tiff");
  assert.equal(describeNonImage(new Uint8Array()), "empty");
  assert.equal(describeNonImage(Uint8Array.from({ length: 256 }, (_, i) => (i * 37) % 256)), "binary");
  assert.equal(describeNonImage(Buffer.from('{"a": 1}')), "json");
  assert.equal(describeNonImage(Buffer.from("data:image/png;base64,iVBORw0KGgo=")), "data-url");
});

test("short and odd inputs never throw", () => {
  for (let n = 0; n < 20; n++) {
    const bytes = new Uint8Array(n).fill(0xff);
    assert.equal(sniffImageType(bytes), undefined);
    assert.equal(typeof describeNonImage(bytes), "string");
  }
  // ftyp box claiming a huge size, cut short
  const ftyp = Buffer.from([0xff, 0xff, 0xff, 0xff, ...Buffer.from("ftypheic")]);
  assert.equal(sniffImageType(ftyp), undefined);
});
