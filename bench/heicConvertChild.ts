/**
 * Child process of the HEIC bench: converts a synthetic 12 MP HEIC (4032x3024, what an iPhone
 * writes) with the compiled functions code, sampling this process's RSS (the decoder thread's
 * WebAssembly heap included). Prints one JSON line.
 */
import path from "node:path";
import { makeHeicImage } from "../functions/test/fixtures/heic.js";

type ConvertHeif = typeof import("../functions/src/images/convertHeif.js");

const ROOT = path.resolve(__dirname, "..");
const WIDTH = 4032;
const HEIGHT = 3024;

async function main() {
  // The compiled module, so the decoder thread runs plain JavaScript as deployed (no tsx in it).
  const { convertHeifToJpeg } = (await import(path.join(ROOT, "functions/lib/images/convertHeif.js"))) as ConvertHeif;
  // A noisy gradient under the face: far harder to code and decode than the flat cartoon.
  const { heic } = await makeHeicImage({ width: WIDTH, height: HEIGHT, background: "gradient-noise", crf: 30 });
  const small = await makeHeicImage({ width: 256, height: 192 });
  const convert = (bytes: Buffer, width: number, height: number) => convertHeifToJpeg({ bytes, mime: "image/heic", width, height }, { maxPixels: 40_000_000 });
  await convert(small.heic, 256, 192); // load sharp and warm the thread machinery first
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const idle = process.memoryUsage().rss;
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const started = performance.now();
  const jpeg = await convert(heic, WIDTH, HEIGHT);
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (jpeg.width !== WIDTH || jpeg.height !== HEIGHT) throw new Error(`converted to ${jpeg.width}x${jpeg.height}`);
  console.log(JSON.stringify({ idle, peak, ms, heicBytes: heic.length, jpegBytes: jpeg.bytes.length }));
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
