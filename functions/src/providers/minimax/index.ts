/**
 * MiniMax image-01: new portraits of the same person from a subject reference. It regenerates the
 * whole picture rather than editing the photo, so it serves only `style` ("this person as a
 * watercolour portrait"); edit, enhance and cutout promise the user's own photo back and are left
 * to instruction editors. Synchronous: one POST carries the face as a data URL and answers base64.
 */
import { maxResultBytes } from "../../config/params.js";
import { providerBaseUrl } from "../baseUrl.js";
import { downloadResult } from "../download.js";
import { ProviderHttpError, classifyTransport, parseRetryAfterMs, providerJson } from "../http.js";
import { instructionFor } from "../prompts.js";
import { ProviderFailure, type ImageProvider, type InputImage, type Outcome, type ProviderError, type ResultImage } from "../types.js";
import { DEFAULT_BASE_URL, INPUT_MIMES, MAX_INPUT_BYTES, MINIMAX_MODELS, MinimaxHttpError, NAME, aspectRatioFor, errorCodeOf, errorForCode, generationResponseSchema, outcomeOf, resultImage } from "./api.js";

export interface MinimaxOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createMinimaxProvider(options: MinimaxOptions): ImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("minimax", DEFAULT_BASE_URL);
  const apiHost = new URL(baseUrl).host;
  const auth = { authorization: `Bearer ${options.apiKey}` };
  const minimaxFetch = withStatusCodes(options.fetch ?? fetch);

  return {
    id: "minimax",
    models: { defaults: { style: MINIMAX_MODELS[0] }, allowed: MINIMAX_MODELS },

    async submit(req, signal): Promise<Outcome> {
      // The reference is a separate input, not the canvas: say whose portrait this is.
      const prompt = `A portrait of the person in the reference photo. ${instructionFor(req)}`;
      assertAcceptable(req.image);
      const body = {
        model: req.model,
        prompt,
        subject_reference: [{ type: "character", image_file: `data:${req.image.mime};base64,${Buffer.from(req.image.bytes).toString("base64")}` }],
        aspect_ratio: aspectRatioFor(req.image.width, req.image.height, req.model),
        n: 1,
        response_format: "base64",
        prompt_optimizer: false, // our instruction, not a rewritten one
        aigc_watermark: false,
      };
      // Not idempotent: MiniMax has no idempotency key, so a retried call could generate (and bill) twice.
      const response = await providerJson(
        {
          url: `${baseUrl}/v1/image_generation`,
          method: "POST",
          headers: { ...auth, "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 120_000,
          fetch: minimaxFetch,
        },
        generationResponseSchema,
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
          // Result URLs are signed object-storage links that MiniMax's own CLI fetches without a
          // key; the key goes only to MiniMax's API host, never to a delivery host.
          const headers = new URL(image.url).host === apiHost ? auth : undefined;
          return resultImage(await downloadResult(image.url, NAME, { maxBytes, signal, headers, fetch: options.fetch }));
        }),
      );
    },

    classify(error): ProviderError {
      if (!(error instanceof MinimaxHttpError)) return classifyTransport(error, NAME);
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
  if (image.bytes.byteLength >= MAX_INPUT_BYTES) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} accepts photos under 10 MB.`, providerCode: "input-too-large" });
  }
}

const tooLarge = () => new ProviderFailure({ kind: "permanent", message: `${NAME} returned a result larger than we accept.`, providerCode: "result-too-large" });

/**
 * A non-2xx answer may still carry `base_resp` (or a v2 `error` envelope) naming the cause, which
 * providerFetch never reads. This fetch reads that body once and keeps nothing but the number.
 */
function withStatusCodes(doFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await doFetch(input, init);
    if (res.ok) return res;
    const code = errorCodeOf(await res.text().catch(() => ""));
    const retryAfterMs = parseRetryAfterMs(res.headers);
    const requestId = res.headers.get("x-request-id") ?? res.headers.get("trace-id") ?? undefined;
    throw code ? new MinimaxHttpError(res.status, retryAfterMs, requestId, code) : new ProviderHttpError(res.status, retryAfterMs, requestId);
  };
}
