import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { AppError } from "../../errors.js";
import { exifGpsEntryCount, makeBombJpeg, makeFaceImage, makeNoisySubjectImage, truncate, withExifGps } from "../../../test/fixtures/images.js";
import { makeHeicImage } from "../../../test/fixtures/heic.js";
import { prepareInputImage } from "../../images/validate.js";
import { ProviderFailure, type ImageRequest, type InputImage, type ResultImage } from "../types.js";
import { matchEditKeywords } from "./effects.js";
import { localHeldBytesPerPixel } from "./heldPixels.js";
import { createLocalProvider, LOCAL_EDIT_KEYWORDS, LOCAL_STYLE_PRESETS, localProvider } from "./index.js";

const SIZE = 256;

async function input(bytes: Uint8Array, mime: InputImage["mime"] = "image/jpeg"): Promise<InputImage> {
  const { width = 0, height = 0 } = await sharp(bytes)
    .metadata()
    .catch(() => ({ width: 0, height: 0 }));
  return { bytes, mime, width, height };
}

let cachedFace: InputImage | undefined;
async function face(): Promise<InputImage> {
  cachedFace ??= await input(await makeFaceImage({ width: SIZE, height: SIZE }));
  return cachedFace;
}

async function run(req: Partial<ImageRequest> & Pick<ImageRequest, "feature">): Promise<ResultImage> {
  const model = req.feature === "cutout" ? "local-cutout-1" : "local-effects-1";
  const outcome = await localProvider.run({ model, image: await face(), ...req });
  assert.ok("state" in outcome && outcome.state === "succeeded");
  const [image] = await localProvider.fetchResult(outcome);
  assert.ok(image);
  return image;
}

async function rejectsWith(promise: Promise<unknown>, code: string, reason: string): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected ${reason}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.code, code);
  assert.equal(error.reason, reason);
  return error;
}

/** Mean absolute per-byte difference of two images' RGB pixels at the same size. */
async function meanDifference(a: Uint8Array, b: Uint8Array): Promise<number> {
  const pixels = (bytes: Uint8Array) => sharp(bytes).removeAlpha().toColourspace("srgb").raw().toBuffer();
  const [pa, pb] = await Promise.all([pixels(a), pixels(b)]);
  assert.equal(pa.length, pb.length);
  let sum = 0;
  for (let i = 0; i < pa.length; i++) sum += Math.abs(pa[i]! - pb[i]!);
  return sum / pa.length;
}

async function channelMeans(bytes: Uint8Array): Promise<number[]> {
  const stats = await sharp(bytes).stats();
  return stats.channels.map((c) => c.mean);
}

test("provider identity and models", () => {
  assert.equal(localProvider.id, "local");
  assert.deepEqual(localProvider.models.defaults, {
    edit: "local-effects-1",
    style: "local-effects-1",
    cutout: "local-cutout-1",
    enhance: "local-effects-1",
  });
  assert.deepEqual([...localProvider.models.allowed], ["local-effects-1", "local-cutout-1"]);
  assert.deepEqual([...LOCAL_STYLE_PRESETS], ["noir", "sepia", "vivid", "warm", "cool", "sketch", "pop-art", "vintage"]);
  assert.ok(LOCAL_EDIT_KEYWORDS.includes("black and white"));
});

test("every style preset yields a JPEG of the input size that differs from the input", async () => {
  const original = (await face()).bytes;
  for (const style of LOCAL_STYLE_PRESETS) {
    const out = await run({ feature: "style", style });
    assert.equal(out.mime, "image/jpeg", style);
    const meta = await sharp(out.bytes).metadata();
    assert.equal(meta.format, "jpeg", style);
    assert.deepEqual([out.width, out.height, meta.width, meta.height], [SIZE, SIZE, SIZE, SIZE], style);
    assert.ok((await meanDifference(original, out.bytes)) > 3, `${style} changes the photo`);
  }
});

test("style presets look like their names", async () => {
  const [r, g, b] = await channelMeans((await run({ feature: "style", style: "noir" })).bytes);
  assert.ok(Math.abs(r! - g!) < 1 && Math.abs(g! - b!) < 1, "noir is grey");
  const warm = await channelMeans((await run({ feature: "style", style: "warm" })).bytes);
  const cool = await channelMeans((await run({ feature: "style", style: "cool" })).bytes);
  assert.ok(warm[0]! - warm[2]! > cool[0]! - cool[2]!, "warm is redder than cool");
  const sketch = await channelMeans((await run({ feature: "style", style: "sketch" })).bytes);
  assert.ok(sketch[0]! > 200, "sketch is mostly paper-white");
});

test("same input, same output bytes (deterministic)", async () => {
  for (const req of [
    { feature: "style", style: "vintage" },
    { feature: "edit", prompt: "warmer and sharper" },
    { feature: "enhance" },
    { feature: "cutout" },
  ] as const) {
    const a = await run(req);
    const b = await run(req);
    assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), req.feature);
  }
});

test("unknown or missing style is refused, naming our presets and never the client's value", async () => {
  const named = await rejectsWith(run({ feature: "style", style: "watercolour" }), "invalid-argument", "style-unknown");
  assert.match(named.message, /^style: not one of noir, /);
  assert.ok(!named.message.includes("watercolour"), "the client's style id is not echoed");
  const unsafe = await rejectsWith(run({ feature: "style", style: "<img src=x>" }), "invalid-argument", "style-unknown");
  assert.ok(!unsafe.message.includes("<img"));
  await rejectsWith(run({ feature: "style" }), "invalid-argument", "style-unknown");
});

test("edit maps prompt keywords onto effects, in prompt order", async () => {
  assert.deepEqual(matchEditKeywords("Please make it black & white, then sharpen it and make it BRIGHTER"), ["black and white", "sharper", "brighter"]);
  assert.deepEqual(matchEditKeywords("retro look, a bit cooler"), ["vintage", "cooler"]);
  const original = await channelMeans((await face()).bytes);
  const brighter = await channelMeans((await run({ feature: "edit", prompt: "brighten it up" })).bytes);
  const darker = await channelMeans((await run({ feature: "edit", prompt: "darker please" })).bytes);
  assert.ok(brighter[1]! > original[1]! + 5 && darker[1]! < original[1]! - 5);
  const [r, g, b] = await channelMeans((await run({ feature: "edit", prompt: "monochrome" })).bytes);
  assert.ok(Math.abs(r! - g!) < 1 && Math.abs(g! - b!) < 1);
  // Greyscale followed by a colour effect still works (channels stay RGB).
  const sepia = await run({ feature: "edit", prompt: "black and white then sepia" });
  assert.equal(sepia.mime, "image/jpeg");
});

test("a prompt with no known keyword is refused with the vocabulary, not the prompt", async () => {
  const prompt = "give me a pirate hat and a parrot";
  const error = await rejectsWith(run({ feature: "edit", prompt }), "invalid-argument", "prompt-not-understood");
  assert.match(error.message, /^prompt: the local provider understands: brighter, darker, /);
  assert.ok(!error.message.includes("pirate"));
  await rejectsWith(run({ feature: "edit" }), "invalid-argument", "prompt-not-understood");
});

test("enhance upscales small photos 2x and keeps large ones at size", async () => {
  const out = await run({ feature: "enhance" });
  assert.equal(out.mime, "image/jpeg");
  assert.deepEqual([out.width, out.height], [SIZE * 2, SIZE * 2]);
  const capped = createLocalProvider({ maxPixels: SIZE * SIZE * 2 });
  const outcome = await capped.run({ feature: "enhance", model: "local-effects-1", image: await face() });
  assert.ok("state" in outcome && outcome.state === "succeeded");
  const [same] = await capped.fetchResult(outcome);
  assert.deepEqual([same!.width, same!.height], [SIZE, SIZE], "no upscale past the pixel cap");
  const big = await input(await makeFaceImage({ width: 1100, height: 600 }));
  const bigOut = await localProvider.run({ feature: "enhance", model: "local-effects-1", image: big });
  assert.ok("state" in bigOut && bigOut.state === "succeeded");
  const [bigImage] = await localProvider.fetchResult(bigOut);
  assert.deepEqual([bigImage!.width, bigImage!.height], [1100, 600]);
});

test("cutout on a plain background: PNG with transparent corners and an opaque face", async () => {
  const out = await run({ feature: "cutout" });
  assert.equal(out.mime, "image/png");
  const { data, info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  assert.deepEqual([info.width, info.height, out.width, out.height], [SIZE, SIZE, SIZE, SIZE]);
  const alpha = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
  for (const [x, y] of [
    [0, 0],
    [SIZE - 1, 0],
    [0, SIZE - 1],
    [SIZE - 1, SIZE - 1],
    [10, SIZE / 2],
  ]) {
    assert.equal(alpha(x!, y!), 0, `transparent at ${x},${y}`);
  }
  for (const [x, y] of [
    [SIZE / 2, SIZE / 2],
    [SIZE / 2 - 30, SIZE / 2 - 10], // the white of an eye: background-like colour, inside the face
  ]) {
    assert.equal(alpha(x!, y!), 255, `opaque at ${x},${y}`);
  }
});

test("a cutout whose PNG could pass the result cap is scaled down to fit: transparent around an opaque subject", async () => {
  const photo = await input(await makeNoisySubjectImage());
  const pixels = photo.width * photo.height;
  // A cap the worst-case PNG (4.1 bytes a pixel) would pass, as a 22 MP photo passes the real one.
  const maxResultBytes = Math.floor(pixels);
  const small = createLocalProvider({ maxResultBytes });
  const outcome = await small.run({ feature: "cutout", model: "local-cutout-1", image: photo });
  assert.ok("state" in outcome && outcome.state === "succeeded");
  const [out] = await small.fetchResult(outcome);
  assert.equal(out!.mime, "image/png");
  assert.ok(out!.bytes.length <= maxResultBytes, `${out!.bytes.length} bytes within the cap of ${maxResultBytes}`);
  const { data, info } = await sharp(out!.bytes).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  assert.ok(info.width < photo.width && info.height < photo.height, `${info.width}x${info.height} from ${photo.width}x${photo.height}`);
  assert.ok(Math.abs(info.width / info.height - photo.width / photo.height) < 0.01, "the same shape");
  assert.deepEqual([out!.width, out!.height], [info.width, info.height]);
  // The admission charge follows the smaller cut: it still covers the PNG, its base64 and the alpha.
  const request = { feature: "cutout", style: undefined, prompt: undefined, width: photo.width, height: photo.height, maxPixels: 40_000_000 };
  const held = localHeldBytesPerPixel({ ...request, maxResultBytes });
  assert.ok(held * pixels >= out!.bytes.length * (1 + 4 / 3) + info.width * info.height, `held ${held} bytes a pixel`);
  assert.ok(held < localHeldBytesPerPixel({ ...request, maxResultBytes: 5 * pixels }), "less than for a full-size cut");
  const alpha = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
  assert.equal(alpha(0, 0), 0, "the backdrop is cut away");
  assert.equal(alpha(info.width - 1, info.height - 1), 0);
  assert.equal(alpha(Math.floor(info.width / 2), Math.floor(info.height / 2)), 255, "the subject stays");
  // With room for the worst case, the same photo keeps its size.
  const roomy = createLocalProvider({ maxResultBytes: 5 * pixels });
  const full = await roomy.run({ feature: "cutout", model: "local-cutout-1", image: photo });
  assert.ok("state" in full && full.state === "succeeded");
  assert.deepEqual([(await roomy.fetchResult(full))[0]!.width], [photo.width]);
});

test("cutout's size: kept while even the worst-case PNG fits the cap; else the largest that does, same shape", async () => {
  const { cutoutSize } = await import("./cutoutSize.js");
  const cap = 30_000_000; // a result cap (today's default is 23.95 MB: config/params.ts maxResultBytes)
  assert.deepEqual(cutoutSize(2000, 3000, cap), { width: 2000, height: 3000 }, "6 MP: 24.6 MB at worst");
  const scaled = cutoutSize(5760, 3840, cap);
  assert.ok(scaled.width * scaled.height * 4.1 <= cap && scaled.width * scaled.height * 4.1 > 0.99 * cap, JSON.stringify(scaled));
  assert.ok(Math.abs(scaled.width / scaled.height - 1.5) < 0.01);
});

test("the admission charge for cutout covers its PNG result, held as bytes and as base64, and its alpha", async () => {
  const photo = await input(await makeNoisySubjectImage());
  const pixels = photo.width * photo.height;
  const outcome = await localProvider.run({ feature: "cutout", model: "local-cutout-1", image: photo });
  assert.ok("state" in outcome && outcome.state === "succeeded");
  const [png] = await localProvider.fetchResult(outcome);
  assert.ok(png);
  // A detailed photo's cutout is about its raw RGBA size, not a JPEG's fraction of it.
  assert.ok(png.bytes.length > 3 * pixels, `PNG of ${png.bytes.length} bytes for ${pixels} pixels`);
  const held = localHeldBytesPerPixel({
    feature: "cutout",
    style: undefined,
    prompt: undefined,
    width: photo.width,
    height: photo.height,
    maxPixels: 40_000_000,
    maxResultBytes: 30_000_000,
  });
  const base64 = (png.bytes.length * 4) / 3;
  assert.ok(held * pixels >= png.bytes.length + base64 + pixels, `held ${held} bytes a pixel`);
});

test("cutout refuses busy backgrounds and empty frames", async () => {
  const noisy = await input(await makeFaceImage({ width: SIZE, height: SIZE, background: "gradient-noise" }));
  const error = await rejectsWith(
    localProvider.run({ feature: "cutout", model: "local-cutout-1", image: noisy }),
    "failed-precondition",
    "local-cutout-unsupported",
  );
  assert.match(error.message, /plain background; choose another provider/);
  const blank = await input(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: "#dfe8f0" } })
      .jpeg()
      .toBuffer(),
  );
  await rejectsWith(localProvider.run({ feature: "cutout", model: "local-cutout-1", image: blank }), "failed-precondition", "local-cutout-unsupported");
});

test("EXIF (and its GPS position) never reaches the output", async () => {
  const tagged = await withExifGps((await face()).bytes);
  assert.ok(exifGpsEntryCount((await sharp(tagged).metadata()).exif) > 0, "fixture carries GPS");
  for (const req of [{ feature: "style", style: "sepia" }, { feature: "edit", prompt: "vivid" }, { feature: "enhance" }, { feature: "cutout" }] as const) {
    const out = await run({ ...req, image: await input(tagged) });
    const meta = await sharp(out.bytes).metadata();
    assert.equal(meta.exif, undefined, req.feature);
    assert.equal(meta.xmp, undefined, req.feature);
    assert.ok(!Buffer.from(out.bytes).includes("FixtureCam"), req.feature);
  }
});

test("EXIF orientation is applied before the effect", async () => {
  const landscape = await makeFaceImage({ width: 300, height: 200 });
  const rotated = await sharp(landscape).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const out = await run({ feature: "style", style: "cool", image: await input(rotated) });
  assert.deepEqual([out.width, out.height], [200, 300]);
});

test("decode refuses truncated JPEGs and pixel bombs", async () => {
  const jpeg = (await face()).bytes;
  const cut = { bytes: truncate(jpeg, Math.floor(jpeg.length * 0.6)), mime: "image/jpeg", width: SIZE, height: SIZE } as const;
  await rejectsWith(run({ feature: "style", style: "noir", image: cut }), "invalid-argument", "image-undecodable");
  const bomb = { bytes: await makeBombJpeg(), mime: "image/jpeg", width: 65_000, height: 65_000 } as const;
  await rejectsWith(run({ feature: "style", style: "noir", image: bomb }), "invalid-argument", "image-too-many-pixels");
});

test("HEIC works once the ingest path has converted it; raw HEIC handed straight to local is still refused", async () => {
  const { heic } = await makeHeicImage({ width: 192, height: 144 });
  const converted = await prepareInputImage(heic, "image/heic", { maxBytes: 15_000_000, maxPixels: 40_000_000 });
  assert.equal(converted.mime, "image/jpeg");
  const out = await run({ feature: "style", style: "noir", image: converted });
  assert.deepEqual([out.mime, out.width, out.height], ["image/jpeg", 192, 144]);
  // createJob never passes HEIC on (prepareInputImage converts it), and sharp cannot decode HEVC.
  const raw = { bytes: heic, mime: "image/heic", width: 192, height: 144 } as const;
  await rejectsWith(run({ feature: "style", style: "noir", image: raw }), "failed-precondition", "local-heic-unsupported");
});

test("PNG and WebP inputs (with transparency) work", async () => {
  for (const format of ["png", "webp"] as const) {
    const bytes = await makeFaceImage({ width: 128, height: 96, format, background: "transparent" });
    const out = await run({ feature: "style", style: "vivid", image: await input(bytes, `image/${format}`) });
    assert.deepEqual([out.mime, out.width, out.height], ["image/jpeg", 128, 96]);
  }
});

test("wrong model, aborted signal", async () => {
  await rejectsWith(run({ feature: "cutout", model: "local-effects-1" }), "invalid-argument", "model-unsupported");
  const aborted = AbortSignal.abort();
  const image = await face();
  await assert.rejects(localProvider.run({ feature: "enhance", model: "local-effects-1", image }, aborted));
});

test("classify, poll and fetchResult", async () => {
  const bad = new AppError("invalid-argument", "style: unknown preset", "style-unknown");
  assert.deepEqual(localProvider.classify(bad), {
    kind: "permanent",
    message: "style: unknown preset",
    providerCode: "style-unknown",
  });
  assert.equal(localProvider.classify(new AppError("resource-exhausted", "x")).kind, "quota");
  assert.equal(localProvider.classify(new AppError("unavailable", "x")).kind, "retryable");
  const leaky = localProvider.classify(new Error("VipsJpeg: something about /tmp/secret.jpg"));
  assert.equal(leaky.kind, "permanent");
  assert.ok(!leaky.message.includes("secret"));
  const failure = new ProviderFailure({ kind: "retryable", message: "x" });
  assert.equal(localProvider.classify(failure), failure.error);

  assert.ok(!("poll" in localProvider), "a sync provider has nothing to poll, and is not made to pretend");
  await assert.rejects(
    localProvider.fetchResult({ state: "succeeded", images: [{ url: "https://example.test/x", mime: "image/png" }] }),
    (e: unknown) => e instanceof AppError && e.reason === "local-result-invalid",
  );
});
