/**
 * HEIC/HEIF → JPEG, the one conversion of the ingest path (validate.ts prepareInputImage).
 *
 * Phones write HEIC with HEVC inside; no provider adapter accepts it and sharp's prebuilt libvips
 * cannot decode HEVC, so every HEIC/HEIF photo becomes a JPEG before any provider sees it.
 * Decoding runs in a worker thread (heifDecodeWorker.ts: libheif compiled to WebAssembly, no
 * native code, nothing downloaded); sharp encodes the pixels. The JPEG carries no metadata at all:
 * rotation and mirroring are applied to the pixels, EXIF (GPS included) and XMP are gone.
 *
 * Memory: one conversion at a time per instance (a 12 MP photo needs a ~120 MB WebAssembly heap
 * plus 36 MB of pixels), each in a fresh thread whose heap is freed when it ends.
 */
import { extname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { AppError } from "../errors.js";
import type { InputImage } from "../providers/types.js";
import type { HeifDecodeReply, HeifDecodeRequest } from "./heifDecodeWorker.js";

export const HEIF_JPEG_QUALITY = 92;
/** 12 MP decodes in 2–5 s here, 40 MP in a few times that; far longer means hostile or broken. */
export const HEIF_DECODE_TIMEOUT_MS = 60_000;

export const isHeif = (mime: InputImage["mime"]) => mime === "image/heic" || mime === "image/heif";

const undecodable = () =>
  new AppError(
    "invalid-argument",
    "image could not be decoded (a corrupt or unsupported HEIC/HEIF file); send JPEG, PNG, WebP or another HEIC",
    "image-undecodable",
  );

export interface ConvertHeifOptions {
  maxPixels: number;
  /** Tests only: a shorter bound for the decode. */
  timeoutMs?: number;
}

// Conversions wait for each other: at most one decoder's memory per instance at any time.
let queue: Promise<unknown> = Promise.resolve();
const decoders = { started: 0, live: 0, peakLive: 0 };

/** Decoder threads started, running now, and most ever running at once (for tests and the bench). */
export const heifDecoderStats = () => ({ ...decoders });

export function convertHeifToJpeg(image: InputImage, options: ConvertHeifOptions): Promise<InputImage> {
  const run = queue.then(() => convert(image, options));
  queue = run.catch(() => undefined);
  return run;
}

async function convert(image: InputImage, { maxPixels, timeoutMs = HEIF_DECODE_TIMEOUT_MS }: ConvertHeifOptions): Promise<InputImage> {
  const decoded = await decodeInWorker({ bytes: image.bytes, maxPixels }, timeoutMs);
  if (!decoded.ok) {
    if (decoded.failure === "too-many-pixels") {
      throw new AppError(
        "invalid-argument",
        `image has too many pixels (the limit is ${Math.round(maxPixels / 100_000) / 10} megapixels)`,
        "image-too-many-pixels",
      );
    }
    if (decoded.failure === "unsupported-codec") {
      // E.g. AV1 inside a HEIF that does not say "avif" in its brands (those are refused by sniffing).
      throw new AppError(
        "invalid-argument",
        "image is a HEIF coded with an unsupported codec (HEIC/HEIF must be HEVC); send JPEG, PNG, WebP or HEIC",
        "image-unsupported-type",
      );
    }
    throw undecodable();
  }
  const { default: sharp } = await import("sharp");
  // libvips' operation cache would keep the decoded face after the job (as in local/raster.ts).
  sharp.cache(false);
  const { width, height, channels } = decoded;
  try {
    const { data, info } = await sharp(Buffer.from(decoded.pixels), { raw: { width, height, channels } })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality: HEIF_JPEG_QUALITY, mozjpeg: false })
      .toBuffer({ resolveWithObject: true });
    return { bytes: data, mime: "image/jpeg", width: info.width, height: info.height };
  } catch {
    throw undecodable();
  }
}

/** The worker's module next to this one: `.js` once compiled, `.ts` under tsx (tests, local stack). */
const workerFile = () => join(__dirname, `heifDecodeWorker${extname(__filename)}`);

/**
 * Runs one decode in a fresh thread and settles only once that thread has exited, so the next
 * conversion never overlaps its memory. A decode that fails or overruns `timeoutMs` is "undecodable";
 * a thread that cannot start or throws outside the decode (a broken deployment) rejects as a bug.
 */
function decodeInWorker(request: HeifDecodeRequest, timeoutMs: number): Promise<HeifDecodeReply> {
  return new Promise((resolve, reject) => {
    // A copy goes to the thread (transferred, not cloned again); the caller keeps its bytes.
    const bytes = Uint8Array.from(request.bytes);
    const worker = new Worker(workerFile(), {
      workerData: { bytes, maxPixels: request.maxPixels } satisfies HeifDecodeRequest,
      transferList: [bytes.buffer],
      // The decoder's own prints (emscripten aborts) are discarded: logs carry codes only.
      stdout: true,
      stderr: true,
    });
    decoders.started++;
    decoders.peakLive = Math.max(decoders.peakLive, ++decoders.live);
    worker.stdout.resume();
    worker.stderr.resume();
    let reply: HeifDecodeReply = { ok: false, failure: "undecodable" };
    let crash: Error | undefined;
    const timer = setTimeout(() => void worker.terminate(), timeoutMs);
    worker.once("message", (message: HeifDecodeReply) => (reply = message));
    worker.once("error", (error) => (crash = error));
    worker.once("exit", () => {
      clearTimeout(timer);
      decoders.live--;
      if (crash) reject(crash);
      else resolve(reply);
    });
  });
}
