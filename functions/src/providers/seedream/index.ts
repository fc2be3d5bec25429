/**
 * ByteDance Seedream / SeedEdit: instruction edits of the user's photo on Volcengine Ark (default,
 * Beijing) or BytePlus ModelArk (SEEDREAM_BASE_URL=https://ark.ap-southeast.bytepluses.com/api/v3).
 * Synchronous: one POST carries the photo as a data URL and answers the image as base64, so no
 * result URL has to be fetched (a URL answer is still downloaded at once, without the key).
 * Ark names its error (moderation, unpaid account, ...) only in the body of a non-2xx answer:
 * providerFetch keeps that code (errorCodeOf) and classify() maps it.
 */
import { providerBaseUrl } from "../baseUrl.js";
import { fetchResultImages } from "../download.js";
import { classifyWithCode, providerJson } from "../http.js";
import { instructionFor } from "../prompts.js";
import { ProviderFailure, type FinishedOutcome, type InputImage, type SyncImageProvider } from "../types.js";
import {
  MAX_INPUT_BYTES,
  NAME,
  VOLCENGINE_BASE_URL,
  catalogFor,
  errorCodeOf,
  errorForCode,
  generationsResponseSchema,
  inputMimesFor,
  outcomeOf,
  sizeFor,
} from "./api.js";

export interface SeedreamOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createSeedreamProvider(options: SeedreamOptions): SyncImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("seedream", VOLCENGINE_BASE_URL);
  const catalog = catalogFor(baseUrl);
  const headers = { authorization: `Bearer ${options.apiKey}`, "content-type": "application/json", accept: "application/json" };

  return {
    id: "seedream",
    models: {
      // An instruction editor: edits, restyles and restores the photo. It cannot cut out onto transparency.
      defaults: { edit: catalog.defaultModel, style: catalog.defaultModel, enhance: catalog.defaultModel },
      allowed: catalog.models,
    },

    async run(req, signal): Promise<FinishedOutcome> {
      const prompt = instructionFor(req);
      assertAcceptable(req.model, req.image);
      const body = {
        model: req.model,
        prompt,
        image: `data:${req.image.mime};base64,${Buffer.from(req.image.bytes).toString("base64")}`,
        size: sizeFor(req.model),
        response_format: "b64_json",
        watermark: false, // the documented default is true: a visible "AI generated" mark
      };
      // Not idempotent: Ark has no idempotency key, so a retried call could generate (and bill) twice.
      const response = await providerJson(
        {
          url: `${baseUrl}/images/generations`,
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal,
          timeoutMs: 180_000,
          fetch: options.fetch,
          errorCode: errorCodeOf,
        },
        generationsResponseSchema,
      );
      return outcomeOf(response);
    },

    // Result URLs live on a delivery host, not the API: they get no key.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: options.fetch }),

    // The body's code says more than the HTTP status; the status still carries Retry-After.
    classify: (error) => classifyWithCode(error, NAME, errorForCode),
  };
}

/** Refuses, before any face data leaves, what the API documents it will not take. */
function assertAcceptable(model: string, image: InputImage): void {
  if (!inputMimesFor(model).includes(image.mime)) {
    const accepted = model.includes("seededit") ? "JPEG or PNG" : "JPEG, PNG or WebP";
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} (${model}) accepts only ${accepted} photos.`, providerCode: "input-type-unsupported" });
  }
  if (image.bytes.byteLength > MAX_INPUT_BYTES) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} accepts photos up to 10 MB.`, providerCode: "input-too-large" });
  }
}
