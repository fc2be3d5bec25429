/**
 * `local`: the embedded offline provider (the default where no provider key is configured).
 * It really transforms the photo with sharp, synchronously and deterministically, and the face
 * never leaves the process. Registry imports this module lazily, so sharp loads only when needed.
 */
import { maxResultBytes } from "../../config/params.js";
import { AppError } from "../../errors.js";
import type { ImageRequest, ProviderError, ResultImage, SyncImageProvider } from "../types.js";
import { classifyLocal } from "./classify.js";
import { cutout } from "./cutout.js";
import { editSteps, enhanceSteps, styleSteps } from "./effects.js";
import { planPasses } from "./plan.js";
import { DEFAULT_MAX_PIXELS, openSource, runPasses } from "./raster.js";

export { LOCAL_EDIT_KEYWORDS, LOCAL_STYLE_PRESETS } from "./effects.js";

export const LOCAL_PROVIDER_ID = "local";
const EFFECTS_MODEL = "local-effects-1";
const CUTOUT_MODEL = "local-cutout-1";

export interface LocalProviderOptions {
  /** Decoder pixel cap (sharp `limitInputPixels`); also caps enhance's upscale. */
  maxPixels?: number;
  /** The result cap cutout's size follows (default: config/params.ts maxResultBytes, read on each call). */
  maxResultBytes?: number;
}

export function createLocalProvider(options: LocalProviderOptions = {}): SyncImageProvider {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  return {
    id: LOCAL_PROVIDER_ID,
    models: {
      defaults: { edit: EFFECTS_MODEL, style: EFFECTS_MODEL, cutout: CUTOUT_MODEL, enhance: EFFECTS_MODEL },
      allowed: [EFFECTS_MODEL, CUTOUT_MODEL],
    },
    async run(req, signal) {
      const image = await transform(req, { maxPixels, maxResultBytes: options.maxResultBytes ?? maxResultBytes() }, signal);
      return { state: "succeeded", images: [image] };
    },
    async fetchResult(outcome) {
      return outcome.images.map(asResultImage);
    },
    classify,
  };
}

export const localProvider: SyncImageProvider = createLocalProvider();

async function transform(req: ImageRequest, limits: { maxPixels: number; maxResultBytes: number }, signal?: AbortSignal): Promise<ResultImage> {
  const { maxPixels } = limits;
  if (!SERVED.has(req.feature)) {
    throw new AppError("invalid-argument", "feature: not served by the local provider", "feature-unsupported");
  }
  const expectedModel = req.feature === "cutout" ? CUTOUT_MODEL : EFFECTS_MODEL;
  if (req.model !== expectedModel) {
    throw new AppError("invalid-argument", `model: the local provider serves ${req.feature} with ${expectedModel}`, "model-unsupported");
  }
  // Resolve style and prompt before decoding: a bad request costs no decode.
  const requested = req.feature === "style" ? styleSteps(req.style) : req.feature === "edit" ? editSteps(req.prompt) : [];
  signal?.throwIfAborted();
  const source = await openSource(req.image.bytes, req.image.mime, maxPixels);
  signal?.throwIfAborted();
  if (req.feature === "cutout") return cutout(source, limits.maxResultBytes, signal);
  const steps = req.feature === "enhance" ? enhanceSteps(source.width, source.height, maxPixels) : requested;
  return runPasses(source, planPasses(steps), signal);
}

const SERVED = new Set<string>(["edit", "style", "cutout", "enhance"]);

const RESULT_MIMES = new Set(["image/jpeg", "image/png", "image/webp"]);

function asResultImage(image: unknown): ResultImage {
  const candidate = image as Partial<ResultImage> | null;
  const valid =
    candidate !== null &&
    typeof candidate === "object" &&
    candidate.bytes instanceof Uint8Array &&
    candidate.bytes.length > 0 &&
    RESULT_MIMES.has(candidate.mime ?? "") &&
    Number.isInteger(candidate.width) &&
    Number.isInteger(candidate.height);
  if (!valid) throw new AppError("internal", "the local provider produced no image", "local-result-invalid");
  return candidate as ResultImage;
}

/** Bad input and unsupported requests are permanent: retrying the same photo gives the same answer. */
function classify(error: unknown): ProviderError {
  return classifyLocal(error, { cancelled: "local processing was cancelled", failed: "local image processing failed", failedCode: "local-processing-failed" });
}
