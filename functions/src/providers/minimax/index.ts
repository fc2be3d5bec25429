/**
 * MiniMax image-01: new portraits of the same person from a subject reference. It regenerates the
 * whole picture rather than editing the photo, so it serves only `style` ("this person as a
 * watercolour portrait"); edit, enhance and cutout promise the user's own photo back and are left
 * to instruction editors. Synchronous: one POST carries the face as a data URL and answers base64.
 * A non-2xx answer may still carry `base_resp` (or a v2 `error` envelope) naming the cause:
 * the shared client (client.ts) keeps that number and classify() maps it.
 */
import { fetchResultImages } from "../download.js";
import { instructionFor } from "../prompts.js";
import { ProviderFailure, type FinishedOutcome, type InputImage, type SyncImageProvider } from "../types.js";
import { INPUT_MIMES, MAX_INPUT_BYTES, MINIMAX_MODELS, NAME, aspectRatioFor, generationResponseSchema, outcomeOf } from "./api.js";
import { createMinimaxClient, type MinimaxClientOptions } from "./client.js";

export type MinimaxOptions = MinimaxClientOptions;

export function createMinimaxProvider(options: MinimaxOptions): SyncImageProvider {
  const minimax = createMinimaxClient(options);

  return {
    id: "minimax",
    models: { defaults: { style: MINIMAX_MODELS[0] }, allowed: MINIMAX_MODELS },

    async run(req, signal): Promise<FinishedOutcome> {
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
      // A non-zero base_resp is an answer here: outcomeOf maps it onto a failed outcome.
      const response = await minimax.call(
        "/v1/image_generation",
        { method: "POST", body: JSON.stringify(body), signal, timeoutMs: 120_000 },
        generationResponseSchema,
        () => true,
      );
      return outcomeOf(response);
    },

    // Result URLs are signed object-storage links that MiniMax's own CLI fetches without a key;
    // the key goes only to MiniMax's API host, never to a delivery host.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: minimax.fetch, headersFor: minimax.headersFor }),

    classify: (error) => minimax.classify(error),
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
