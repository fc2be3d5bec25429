/**
 * Memory (ARCHITECTURE §10): peak RSS while createJob handles a maximum-size image (MAX_IMAGE_BYTES,
 * 15 MB) stays under 4x the image's byte size above the idle process. Driven in-process with the
 * local provider (`style`), the Firestore and Storage servers in another process so only the
 * function's memory is measured.
 *
 * Two synthetic ~15 MB images (sharp-generated Gaussian noise, never a photo), because the file size
 * does not decide the memory: decoding costs width x height x 3 bytes whatever the file's size.
 * - a JPEG (quality 90): ~0.65 bytes per pixel, so 15 MB is ~22 MP, as a camera writes it. Its
 *   RGB raster alone is ~4.4x the file;
 * - a PNG: ~2.8 bytes per pixel, so 15 MB is ~5 MP and the raster is about the file's size.
 *
 * Growth counts everything the invocation holds: the request as the callable receives it (the
 * base64 string, 1.33x), the decoded bytes, the metadata-stripped copy, the rasters of each
 * effect step, the encoded result and its base64. Idle is the warmed-up process (a small job run
 * first, garbage collected) before the request exists. Peak is the kernel's high-water mark
 * (`resourceUsage().maxRSS`), checked against RSS sampled every 5 ms.
 *
 * The same file is the measured process (`--child`) and the image generator (`--generate`). Run on
 * its own, `bench/imageMemory.ts [effect]` measures another style preset, or `enhance`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { makeScratchDir } from "../local/storage-emulator.js";
import { ROOT, startBackendsProcess, TSX } from "./backendsProcess.js";

const BUDGET = 4;
const MAX_IMAGE_BYTES = 15_000_000;
/**
 * Four colour steps (sepia wash, contrast, tint, saturation): once a raw raster each, now one
 * streamed pass (providers/local/plan.ts). Effects that still hold the picture as raw pixels
 * somewhere (pop-art's posterize, enhance's sharpen after normalise, noir's luma histogram) cost more.
 */
const STYLE = "vintage";

interface ChildResult {
  idle: number;
  idleMaxRss: number;
  withRequest: number;
  sampledPeak: number;
  maxRss: number;
  ms: number;
  width: number;
  height: number;
  resultBytes: number;
}

export async function measureImageMemory(effect = STYLE) {
  const dir = makeScratchDir("bench-image-memory");
  const backends = await startBackendsProcess();
  try {
    execFileSync(process.execPath, [...TSX, "bench/imageMemory.ts", "--generate", dir], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    const results = [];
    for (const [file, mime] of [["max.jpg", "image/jpeg"], ["max.png", "image/png"]] as const) {
      const image = path.join(dir, file);
      const bytes = statSync(image).size;
      const out = execFileSync(process.execPath, ["--expose-gc", ...TSX, "bench/imageMemory.ts", "--child", image, mime, path.join(dir, "warm.jpg"), effect], {
        cwd: ROOT,
        env: backends.env,
        encoding: "utf8",
        maxBuffer: 1 << 20,
      });
      const r = JSON.parse(out.trim().split("\n").pop()!) as ChildResult;
      // The kernel's high-water mark, unless the warm-up had already set it higher (then the samples).
      const peak = r.maxRss > r.idleMaxRss ? r.maxRss : r.sampledPeak;
      const growth = peak - r.idle;
      const raster = r.width * r.height * 3;
      const mb = (n: number) => (n / 1e6).toFixed(0);
      results.push({
        name: `peak RSS while createJob (local, ${effect === "enhance" ? effect : `style ${effect}`}) handles a ${(bytes / 1e6).toFixed(1)} MB ${mime.slice(6).toUpperCase()} of ${(r.width * r.height / 1e6).toFixed(1)} MP (growth over idle vs the image's byte size)`,
        detail:
          `idle ${mb(r.idle)} MB, +${mb(r.withRequest - r.idle)} MB with the request, peak +${mb(growth)} MB ` +
          `(sampled +${mb(r.sampledPeak - r.idle)}); RGB raster ${mb(raster)} MB = ${(raster / bytes).toFixed(1)}x the file, peak = ${(growth / raster).toFixed(1)} rasters; ` +
          `${(r.ms / 1000).toFixed(1)} s, result ${(r.resultBytes / 1e6).toFixed(1)} MB`,
        ratio: growth / bytes,
        ok: growth < BUDGET * bytes,
        budget: `growth < ${BUDGET}x the image's bytes`,
      });
    }
    return results;
  } finally {
    backends.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ the image generator (--generate)

async function generate(dir: string) {
  const sharp = createRequire(path.join(ROOT, "functions/package.json"))("sharp") as typeof import("../functions/node_modules/sharp").default;
  const noise = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: "gaussian", mean: 128, sigma: 40 } } });
  const encoders = {
    "max.jpg": (w: number, h: number) => noise(w, h).jpeg({ quality: 90 }).toBuffer(),
    "max.png": (w: number, h: number) => noise(w, h).png({ compressionLevel: 1 }).toBuffer(),
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
  writeFileSync(path.join(dir, "warm.jpg"), await noise(512, 384).jpeg({ quality: 90 }).toBuffer());
}

// ------------------------------------------------------------------ the measured process (--child)

async function child(image: string, mime: string, warmImage: string, effect: string): Promise<ChildResult> {
  const { createJob } = await import("../functions/src/jobs/createJob.js");
  const consent = { faceDataProcessing: true, policyVersion: "2026-11" };
  const feature = effect === "enhance" ? { feature: "enhance" } : { feature: "style", style: effect };
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

  // The request as the callable hands it over: the parsed JSON, the photo a base64 string.
  const data = request(readFileSync(image).toString("base64"), mime);
  await settle();
  const withRequest = process.memoryUsage().rss;

  let sampledPeak = withRequest;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss)), 5);
  const started = performance.now();
  const res = await createJob("bench-max", data);
  const ms = performance.now() - started;
  clearInterval(sampler);
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  if (res.status !== "succeeded" || !res.result) throw new Error(`job ${res.status}: ${res.error?.code ?? ""}`);
  return { idle, idleMaxRss, withRequest, sampledPeak, maxRss, ms, width: res.result.width, height: res.result.height, resultBytes: Math.floor((res.result.base64.length * 3) / 4) };
}

if (require.main === module && process.argv.includes("--generate")) {
  void generate(process.argv[process.argv.indexOf("--generate") + 1]!).then(() => process.exit(0));
} else if (require.main === module && process.argv.includes("--child")) {
  const [image, mime, warm, effect] = process.argv.slice(process.argv.indexOf("--child") + 1);
  void child(image!, mime!, warm!, effect!).then(
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
