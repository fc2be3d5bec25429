/**
 * ByteDance Seedream / SeedEdit: instruction edits of the user's photo on Volcengine Ark (default,
 * Beijing) or BytePlus ModelArk (SEEDREAM_BASE_URL=https://ark.ap-southeast.bytepluses.com/api/v3).
 * Synchronous: one POST carries the photo as a data URL and answers the image as base64, so no
 * result URL has to be fetched (a URL answer is still downloaded at once, without the key).
 */
import { maxResultBytes } from "../../config/params.js";
import { providerBaseUrl } from "../baseUrl.js";
import { downloadResult } from "../download.js";
import { ProviderHttpError, classifyTransport, parseRetryAfterMs, providerJson } from "../http.js";
import { instructionFor } from "../prompts.js";
import { ProviderFailure, type ImageProvider, type InputImage, type Outcome, type ProviderError, type ResultImage } from "../types.js";
import { ArkHttpError, INPUT_MIMES, MAX_INPUT_BYTES, NAME, VOLCENGINE_BASE_URL, catalogFor, errorCodeOf, errorForCode, generationsResponseSchema, outcomeOf, resultImage, sizeFor } from "./api.js";

export interface SeedreamOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createSeedreamProvider(options: SeedreamOptions): ImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("seedream", VOLCENGINE_BASE_URL);
  const catalog = catalogFor(baseUrl);
  const headers = { authorization: `Bearer ${options.apiKey}`, "content-type": "application/json", accept: "application/json" };
  const arkFetch = withArkErrorCodes(options.fetch ?? fetch);

  return {
    id: "seedream",
    models: {
      // An instruction editor: edits, restyles and restores the photo. It cannot cut out onto transparency.
      defaults: { edit: catalog.defaultModel, style: catalog.defaultModel, enhance: catalog.defaultModel },
      allowed: catalog.models,
    },

    async submit(req, signal): Promise<Outcome> {
      const prompt = instructionFor(req);
      assertAcceptable(req.image);
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
        { url: `${baseUrl}/images/generations`, method: "POST", headers, body: JSON.stringify(body), signal, timeoutMs: 180_000, fetch: arkFetch },
        generationsResponseSchema,
      );
      return outcomeOf(response);
    },

    async poll(): Promise<Outcome> {
      throw new ProviderFailure({ kind: "permanent", message: `${NAME} answers synchronously; there is no task to poll.`, providerCode: "sync-provider" });
    },

    async fetchResult(outcome, signal): Promise<ResultImage[]> {
      const maxBytes = maxResultBytes();
      return Promise.all(
        outcome.images.map(async (image) => {
          if ("bytes" in image) {
            if (image.bytes.byteLength > maxBytes) throw tooLarge();
            return image;
          }
          // Result URLs live on a delivery host, not the API: they get no key.
          const bytes = await downloadResult(image.url, NAME, { maxBytes, signal, fetch: options.fetch });
          return resultImage(bytes);
        }),
      );
    },

    classify(error): ProviderError {
      if (!(error instanceof ArkHttpError)) return classifyTransport(error, NAME);
      // The body's code says more than the HTTP status; the status still carries Retry-After.
      const transport = { ...classifyTransport(error, NAME), providerCode: String(error.code) };
      const known = errorForCode(error.code);
      return known ? { ...transport, ...known } : transport;
    },
  };
}

/** Refuses, before any face data leaves, what the API documents it will not take. */
function assertAcceptable(image: InputImage): void {
  if (!INPUT_MIMES.includes(image.mime)) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} accepts only JPEG or PNG photos.`, providerCode: "input-type-unsupported" });
  }
  if (image.bytes.byteLength > MAX_INPUT_BYTES) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} accepts photos up to 10 MB.`, providerCode: "input-too-large" });
  }
}

const tooLarge = () => new ProviderFailure({ kind: "permanent", message: `${NAME} returned a result larger than we accept.`, providerCode: "result-too-large" });

/**
 * Ark names its error (moderation, unpaid account, ...) only in the body of a non-2xx answer, which
 * providerFetch never reads. This fetch reads that body once and keeps nothing but the code.
 */
function withArkErrorCodes(doFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await doFetch(input, init);
    if (res.ok) return res;
    const code = errorCodeOf(await res.text().catch(() => ""));
    const retryAfterMs = parseRetryAfterMs(res.headers);
    const requestId = res.headers.get("x-request-id") ?? undefined;
    throw code ? new ArkHttpError(res.status, retryAfterMs, requestId, code) : new ProviderHttpError(res.status, retryAfterMs, requestId);
  };
}
