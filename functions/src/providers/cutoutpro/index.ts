/**
 * Cutout.Pro: background removal, face cutout, photo enhancement and colorization of the user's
 * photo. Synchronous: one multipart upload answers the result inline as base64 (decoded, capped
 * and typed in outcomeOf), so nothing is polled and no result URL is fetched. The model id picks
 * the operation (see api.ts).
 */
import { maxResultBytes } from "../../config/params.js";
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { fetchResultImages } from "../download.js";
import { classifyTransport, providerJson } from "../http.js";
import { ProviderFailure, type FinishedOutcome, type SyncImageProvider } from "../types.js";
import { CUTOUT_PRO_MODELS, mattingResponseSchema, NAME, outcomeOf, uploadName, type CutoutProModel, type CutoutProModelId } from "./api.js";

export { CUTOUT_PRO_MODELS } from "./api.js";

export interface CutoutProOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createCutoutProProvider(options: CutoutProOptions): SyncImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("cutoutpro", "https://www.cutout.pro");

  return {
    id: "cutoutpro",
    models: {
      defaults: { cutout: "cutout-general", enhance: "enhance-photo" },
      allowed: Object.keys(CUTOUT_PRO_MODELS),
    },

    async run(req, signal): Promise<FinishedOutcome> {
      const model: CutoutProModel | undefined = Object.hasOwn(CUTOUT_PRO_MODELS, req.model) ? CUTOUT_PRO_MODELS[req.model as CutoutProModelId] : undefined;
      if (!model || model.feature !== req.feature) {
        throw new AppError("invalid-argument", `model: ${req.model} does not serve ${req.feature} at ${NAME}`, "model-unsupported");
      }
      const filename = uploadName(req.image.mime);
      if (!filename) throw unsupportedInput("Cutout.Pro accepts JPEG, PNG or WebP photos only.");
      if (req.image.bytes.length > model.maxInputBytes) throw unsupportedInput("This photo is larger than Cutout.Pro accepts.");

      const query = new URLSearchParams({ mattingType: String(model.mattingType) });
      // No output-format parameter: matting2 documents none (mattingType, crop, bgcolor only; the
      // official SDK sends none). A cutout comes back as PNG, and typedResult sniffs it to be sure.
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(req.image.bytes)], { type: req.image.mime }), filename);

      // Not idempotent: a retried upload could be billed twice.
      const body = await providerJson(
        {
          url: `${baseUrl}/api/v1/matting2?${query}`,
          method: "POST",
          headers: { APIKEY: options.apiKey, accept: "application/json" },
          body: form,
          signal,
          timeoutMs: 90_000,
          fetch: options.fetch,
        },
        mattingResponseSchema,
      );
      return outcomeOf(body, req.feature, maxResultBytes());
    },

    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: options.fetch }),

    classify: (error) => classifyTransport(error, NAME),
  };
}

const unsupportedInput = (message: string) => new ProviderFailure({ kind: "permanent", message, providerCode: "unsupported-input" });
