/**
 * Memory (ARCHITECTURE §10; docs/CAPACITY.md §2): peak RSS growth while createJob handles a
 * maximum-size image (MAX_IMAGE_BYTES, 15 MB) stays within what the admission gate charges that
 * request: `createJobBytes` (capacity/admission.ts), the very function the createJob trigger calls,
 * run in the measured process on the request itself (1.5 decoded RGB rasters + 2.5x the file + 8 MB,
 * plus the raw pixels a local effect keeps whole).
 * The no-out-of-memory claim rests on that charge being an upper bound of a job's real growth, so a
 * row fails the moment it is not. A last row runs 8 max-size JPEGs at once through the admission
 * gate with createJob's default budget: their growth stays within the budget and the instance's
 * memory. Driven in-process with the local provider (`style`), the Firestore and Storage servers in
 * another process so only the function's memory is measured.
 *
 * Two synthetic ~15 MB images (sharp-generated Gaussian noise, never a photo), because the file size
 * does not decide the memory: decoding costs width x height x 3 bytes whatever the file's size.
 * - a JPEG (quality 90): ~0.65 bytes per pixel, so 15 MB is ~22 MP, as a camera writes it. Its
 *   RGB raster alone is ~4.4x the file;
 * - a PNG: ~2.8 bytes per pixel, so 15 MB is ~5 MP and the raster is about the file's size: the
 *   request's own copies (base64 1.33x, decoded bytes 1x) decide, which the charge's 2.5x covers.
 *
 * Growth counts everything the invocation holds: the parsed request (the photo a base64 string,
 * 1.33x), the decoded bytes, sharp's streamed pass, the encoded result and its base64, the RPCs.
 * Not the raw JSON body the Functions framework read before the handler ran (~1.33x the file): no
 * gate inside the handler can hold that back, so docs/CAPACITY.md §3 budgets it per concurrent
 * request outside the gate. Idle is the warmed-up process (a small job run first, garbage collected)
 * before the request exists. Peak is the kernel's high-water mark (`resourceUsage().maxRSS`),
 * checked against RSS sampled every 5 ms.
 *
 * The same file is the measured process (`--child`) and the image generator (`--generate`). Run on
 * its own, `bench/imageMemory.ts [effect]` measures another style preset, `enhance` or `cutout`.
 * Cutout refuses a busy border, so for it the same noise gets a subject on a plain backdrop
 * (`withSubject`), and its 22 MP result, a PNG over the result cap, is refused after the peak.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { makeScratchDir } from "../local/storage-emulator.js";
import { ROOT, startBackendsProcess, TSX } from "./backendsProcess.js";

/** The concurrent row: createJob's default shape (triggers/shapes.ts, config/params.ts). */
const CONCURRENT = 8;
const ADMISSION_MB = 1_200;
const INSTANCE_MB = 2_048 * 1.048576;
const MAX_IMAGE_BYTES = 15_000_000;
/**
 * Four colour steps (sepia wash, contrast, tint, saturation): once a raw raster each, now one
 * streamed pass (providers/local/plan.ts). Effects that still hold the picture as raw pixels
 * somewhere (pop-art's posterize, enhance's sharpen after normalise, noir's luma histogram) cost more,
 * and their requests are charged more (plan.ts heldBytesPerPixel).
 */
const STYLE = "vintage";

export interface ChildResult {
  idle: number;
  idleMaxRss: number;
  withRequest: number;
  sampledPeak: number;
  maxRss: number;
  ms: number;
  width: number;
  height: number;
  resultBytes: number;
  /** What the admission gate charges one of these requests (`createJobBytes`), in bytes. */
  charge: number;
  /** The input's dimensions as its header gives them (the result's differ for enhance's upscale). */
  inputWidth: number;
  inputHeight: number;
  /** Cutout only: the result was built, then refused as larger than the result cap. */
}

/** Runs the measured process on one image: `concurrent` createJob calls at once, optionally gated. */
export function runImageChild(env: NodeJS.ProcessEnv, image: string, mime: string, warm: string, effect: string, concurrent = 1, gated = false): ChildResult {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", ...TSX, "bench/imageMemory.ts", "--child", image, mime, warm, effect, String(concurrent), gated ? "gated" : "bare"],
    { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split("\n").pop()!) as ChildResult;
}

/** Growth over idle at the peak: the kernel's high-water mark, unless the warm-up had set it higher. */
export const peakGrowth = (r: ChildResult) => (r.maxRss > r.idleMaxRss ? r.maxRss : r.sampledPeak) - r.idle;

export async function measureImageMemory(effect = STYLE) {
  const dir = makeScratchDir("bench-image-memory");
  const backends = await startBackendsProcess();
  try {
    generateImages(dir, false, effect === "cutout");
    const warm = path.join(dir, "warm.jpg");
    const results = [];
    let jpegCharge = 0;
    const mb = (n: number) => (n / 1e6).toFixed(0);
    for (const [file, mime] of [
      ["max.jpg", "image/jpeg"],
      ["max.png", "image/png"],
    ] as const) {
      const image = path.join(dir, file);
      const bytes = statSync(image).size;
      const r = runImageChild(backends.env, image, mime, warm, effect);
      const growth = peakGrowth(r);
      const raster = r.inputWidth * r.inputHeight * 3;
      if (mime === "image/jpeg") jpegCharge = r.charge;
      results.push({
        name: `peak RSS while createJob (local, ${effect === "enhance" || effect === "cutout" ? effect : `style ${effect}`}) handles a ${(bytes / 1e6).toFixed(1)} MB ${mime.slice(6).toUpperCase()} of ${((r.inputWidth * r.inputHeight) / 1e6).toFixed(1)} MP (growth over idle vs the admission charge)`,
        detail:
          `idle ${mb(r.idle)} MB, +${mb(r.withRequest - r.idle)} MB with the request, peak +${mb(growth)} MB ` +
          `(sampled +${mb(r.sampledPeak - r.idle)}); RGB raster ${mb(raster)} MB = ${(raster / bytes).toFixed(1)}x the file, peak = ${(growth / raster).toFixed(2)} rasters; ` +
          `charge ${mb(r.charge)} MB; ${(r.ms / 1000).toFixed(1)} s, ` +
          `result ${(r.resultBytes / 1e6).toFixed(1)} MB`,
        ratio: growth / r.charge,
        ok: growth <= r.charge,
        budget: "growth ≤ the admission charge, createJobBytes(request) (capacity/admission.ts)",
      });
    }
    // Max-size JPEGs at once through the admission gate (default budget): within the budget. As
    // many as the declared concurrency, or as the budget admits at once for an effect charged more
    // (the rest would wait, then be refused).
    const atOnce = Math.max(1, Math.min(CONCURRENT, Math.floor((ADMISSION_MB * 1e6) / jpegCharge)));
    const image = path.join(dir, "max.jpg");
    const bytes = statSync(image).size;
    const r = runImageChild(backends.env, image, "image/jpeg", warm, effect, atOnce, true);
    const growth = peakGrowth(r);
    results.push({
      name: `peak RSS while ${atOnce} createJob calls at once (admission gate, CREATE_JOB_ADMISSION_MB ${ADMISSION_MB}) handle ${(bytes / 1e6).toFixed(1)} MB JPEGs of ${((r.inputWidth * r.inputHeight) / 1e6).toFixed(1)} MP (growth over idle vs the budget)`,
      detail: `idle ${mb(r.idle)} MB, +${mb(r.withRequest - r.idle)} MB with the ${atOnce} requests, peak +${mb(growth)} MB = ${mb(growth / atOnce)} MB a job (charged ${mb(r.charge)} MB a job); ${(r.ms / 1000).toFixed(1)} s for all; instance total ${mb(r.idle + growth)} MB of ${INSTANCE_MB.toFixed(0)}`,
      ratio: growth / (ADMISSION_MB * 1e6),
      ok: growth <= ADMISSION_MB * 1e6 && r.idle + growth <= INSTANCE_MB * 1e6,
      budget: `growth ≤ the admission budget and idle + growth ≤ the instance's memory`,
    });
    return results;
  } finally {
    backends.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes max.jpg, max.png, warm.jpg (and with `sizes`, typical.jpg 12 MP and small.jpg 1 MP) into
 * dir; with `subject`, each with a subject on a backdrop cutout accepts (`withSubject`).
 */
export function generateImages(dir: string, sizes = false, subject = false) {
  const args = [...(sizes ? ["sizes"] : []), ...(subject ? ["subject"] : [])];
  execFileSync(process.execPath, [...TSX, "bench/imageMemory.ts", "--generate", dir, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

// ------------------------------------------------------------------ the image generator (--generate)

async function generate(dir: string, sizes: boolean, subject: boolean) {
  const sharp = createRequire(path.join(ROOT, "functions/package.json"))("sharp") as typeof import("../functions/node_modules/sharp").default;
  const grey = (width: number, height: number, sigma = 40) =>
    sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: "gaussian", mean: 128, sigma } } });
  const noise = async (width: number, height: number) => (subject ? withSubject(grey(width, height), width, height) : grey(width, height));
  const encoders = {
    "max.jpg": async (w: number, h: number) => (await noise(w, h)).jpeg({ quality: 90 }).toBuffer(),
    "max.png": async (w: number, h: number) => (await noise(w, h)).png({ compressionLevel: 1 }).toBuffer(),
  };
  for (const [file, encode] of Object.entries(encoders)) {
    // Bytes per pixel from a 1 MP sample, then a 3:2 frame sized to just under the cap.
    const perPixel = (await encode(1200, 800)).length / 960_000;
    let pixels = (MAX_IMAGE_BYTES * 0.97) / perPixel;
    for (;;) {
      const width = Math.round(Math.sqrt(pixels * 1.5));
      const bytes = await encode(width, Math.round(width / 1.5));
      if (bytes.length <= MAX_IMAGE_BYTES) {
        writeFileSync(path.join(dir, file), bytes);
        break;
      }
      pixels *= 0.97;
    }
  }
  // The warm-up photo is its own analysis copy: cutout sees its noise unaveraged, so less of it.
  const warm = subject ? await withSubject(grey(512, 384, 8), 512, 384) : grey(512, 384);
  writeFileSync(path.join(dir, "warm.jpg"), await warm.jpeg({ quality: 90 }).toBuffer());
  if (!sizes) return;
  // A typical phone photo (12 MP, 4:3) and a small one (1 MP), the same noise and quality.
  writeFileSync(path.join(dir, "typical.jpg"), await (await noise(4000, 3000)).jpeg({ quality: 90 }).toBuffer());
  writeFileSync(path.join(dir, "small.jpg"), await (await noise(1152, 864)).jpeg({ quality: 90 }).toBuffer());
}

/**
 * The same noise with a subject for cutout, which refuses a busy border: the grey noise is the
 * backdrop (cutout's 512-pixel analysis copy averages it to a plain grey), and a centred ellipse
 * over half the frame is that noise shifted to red (mean 128, 48, 48: far outside cutout's colour
 * tolerance). Noise everywhere keeps the file as large, and the result PNG as incompressible, as
 * for the other rows: the worst case for the PNG cutout returns. No face, no photo.
 */
async function withSubject(image: import("../functions/node_modules/sharp").Sharp, width: number, height: number) {
  const sharp = createRequire(path.join(ROOT, "functions/package.json"))("sharp") as typeof import("../functions/node_modules/sharp").default;
  const data = await image.raw().toBuffer();
  const [cx, cy, rx, ry] = [width / 2, height / 2, width * 0.4, height * 0.4];
  for (let y = 0; y < height; y++) {
    const dy = (y - cy) / ry;
    const half = dy * dy < 1 ? rx * Math.sqrt(1 - dy * dy) : -1;
    for (let x = Math.max(0, Math.ceil(cx - half)); x < Math.min(width, cx + half); x++) {
      const i = (y * width + x) * 3;
      data[i + 1] = Math.max(0, data[i + 1]! - 80);
      data[i + 2] = Math.max(0, data[i + 2]! - 80);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

// ------------------------------------------------------------------ the measured process (--child)

/**
 * `concurrent` requests at once, each with its own copy of the request (as separate callers'
 * bodies would be). `gated`: through the admission gate, as the createJob trigger runs them.
 */
async function child(image: string, mime: string, warmImage: string, effect: string, concurrent = 1, gated = false): Promise<ChildResult> {
  const { createJob: bare } = await import("../functions/src/jobs/createJob.js");
  const { createJobBytes, withAdmission } = await import("../functions/src/capacity/admission.js");
  const createJob = gated ? async (uid: string, data: unknown) => withAdmission("createJob", await createJobBytes(uid, data), () => bare(uid, data)) : bare;
  const consent = { faceDataProcessing: true, policyVersion: "2026-11" };
  const feature = effect === "enhance" || effect === "cutout" ? { feature: effect } : { feature: "style", style: effect };
  const request = (base64: string, mimeType: string) => ({ requestId: crypto.randomUUID(), ...feature, image: { base64, mimeType }, consent });
  const settle = async () => {
    global.gc!();
    await new Promise((r) => setTimeout(r, 200));
    global.gc!();
  };

  // Warm up: every module, the Firestore channel and sharp's thread pool, on a small image.
  const warm = await createJob("bench-warm", request(readFileSync(warmImage).toString("base64"), "image/jpeg"));
  if (warm.status !== "succeeded") throw new Error(`warm-up job ${warm.status}`);
  await settle();
  const idle = process.memoryUsage().rss;
  const idleMaxRss = process.resourceUsage().maxRSS * 1024;

  // The request as the callable hands it over: the parsed JSON, the photo a base64 string. Distinct
  // strings: a string is a request's body, and concurrent callers do not share one. The file's
  // bytes are read inside a callee so nothing keeps them: a local here would stay alive in this
  // suspended async frame and count 1x the file the handler never holds.
  const base64Of = (file: string) => readFileSync(file).toString("base64");
  const requests = Array.from({ length: concurrent }, () => request(base64Of(image), mime));
  const charge = await createJobBytes("bench-max-0", requests[0]);
  await settle();
  const withRequest = process.memoryUsage().rss;

  let sampledPeak = withRequest;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss)), 5);
  const started = performance.now();
  const all = await Promise.all(requests.map((data, i) => createJob(`bench-max-${i}`, data)));
  const result = all[0]?.result;
  const ms = performance.now() - started;
  clearInterval(sampler);
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  for (const r of all) if (r.status !== "succeeded" || !r.result) throw new Error(`job ${r.status}: ${r.error?.code ?? ""}`);
  const { readImageDimensions } = await import("../functions/src/images/dimensions.js");
  const { sniffImageType } = await import("../functions/src/images/sniff.js");
  const head = readFileSync(image);
  const input = readImageDimensions(head, sniffImageType(head)!)!;
  return {
    idle,
    idleMaxRss,
    withRequest,
    sampledPeak,
    maxRss,
    ms,
    width: result?.width ?? input.width,
    height: result?.height ?? input.height,
    resultBytes: Math.floor(((result?.base64.length ?? 0) * 3) / 4),
    charge,
    inputWidth: input.width,
    inputHeight: input.height,
  };
}

if (require.main === module && process.argv.includes("--generate")) {
  const at = process.argv.indexOf("--generate");
  const options = process.argv.slice(at + 2);
  void generate(process.argv[at + 1]!, options.includes("sizes"), options.includes("subject")).then(() => process.exit(0));
} else if (require.main === module && process.argv.includes("--child")) {
  const [image, mime, warm, effect, concurrent, gated] = process.argv.slice(process.argv.indexOf("--child") + 1);
  void child(image!, mime!, warm!, effect!, Number(concurrent ?? 1), gated === "gated").then(
    (result) => {
      console.log(JSON.stringify(result));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  void measureImageMemory(process.argv[2]).then((results) => {
    for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"}  ${r.name}: ${r.detail}; ratio ${r.ratio.toFixed(3)} (budget: ${r.budget})`);
  });
}
