/**
 * Gemini image models on Vertex AI through `@google/genai` in Vertex mode: conversational edits of
 * the user's photo. Synchronous: one `generateContent` call carries the photo as inline base64 and
 * answers the image inline. Auth is Application Default Credentials (the function's service
 * account; no key is stored). The SDK is imported on first use only, never at cold start; the
 * client (project, location, base URL, credential) is built in ../vertex.ts, shared with Veo.
 *
 * Test overrides (all optional): `project`, `location`, `baseUrl` (else `GEMINI_BASE_URL`), `fetch`,
 * `timeoutMs`, and `authClient` — any object with google-auth-library's
 * `getRequestHeaders(url)`, handed to the SDK as `googleAuthOptions.authClient` (the SDK's
 * supported way to bring your own credentials) so tests send a generated token and never touch ADC.
 */
import { maxResultBytes } from "../../config/params.js";
import { AppError } from "../../errors.js";
import { classifyTransport } from "../http.js";
import { instructionFor } from "../prompts.js";
import { ProviderFailure, type FinishedOutcome, type ImageRequest, type ProviderError, type ResultImage, type SyncImageProvider } from "../types.js";
import { loadedSdk, vertexClient, type VertexOptions } from "../vertex.js";
import { DEFAULT_MODEL, GEMINI_MODELS, MAX_INLINE_BYTES, NAME, aspectRatioFor, errorForApiError, outcomeOf, responseSchema } from "./api.js";

/** `location` defaults to GOOGLE_CLOUD_LOCATION, then "global" (the GA image models are served there). */
export interface GeminiOptions extends VertexOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export function createGeminiProvider(options: GeminiOptions = {}): SyncImageProvider {
  const getClient = vertexClient(
    {
      provider: "gemini",
      defaultLocation: "global",
      // No retryOptions: the SDK then sends each call once (a generation may have been billed).
      httpOptions: { timeout: options.timeoutMs ?? 240_000, ...(options.fetch && { fetch: options.fetch }) },
    },
    options,
  );

  return {
    id: "gemini",
    models: {
      // No cutout: Gemini cannot return transparency, and a white backdrop is not a cutout.
      defaults: { edit: DEFAULT_MODEL, style: DEFAULT_MODEL, enhance: DEFAULT_MODEL },
      allowed: GEMINI_MODELS,
    },

    async run(req, signal): Promise<FinishedOutcome> {
      assertAcceptable(req);
      const prompt = instructionFor(req);
      const aspectRatio = aspectRatioFor(req.image.width, req.image.height);
      const response = await (
        await getClient()
      ).models.generateContent({
        model: req.model,
        contents: [
          { role: "user", parts: [{ inlineData: { mimeType: req.image.mime, data: Buffer.from(req.image.bytes).toString("base64") } }, { text: prompt }] },
        ],
        config: {
          responseModalities: ["IMAGE"],
          candidateCount: 1,
          ...(aspectRatio && { imageConfig: { aspectRatio } }),
          abortSignal: signal,
          automaticContinuation: false, // one request per submit, nothing resent behind our back
        },
      });
      const parsed = responseSchema.safeParse(response);
      if (!parsed.success)
        throw new ProviderFailure({ kind: "retryable", message: "The provider sent a response we could not read.", providerCode: "malformed-response" });
      return outcomeOf(parsed.data, maxResultBytes());
    },

    async fetchResult(outcome): Promise<ResultImage[]> {
      // Always inline bytes; their size was checked when the answer was read.
      return outcome.images.filter((image): image is ResultImage => "bytes" in image);
    },

    classify(error): ProviderError {
      if (error instanceof ProviderFailure) return error.error;
      const sdk = loadedSdk();
      if (sdk && error instanceof sdk.ApiError) return errorForApiError(error.status, error.message);
      const name = (error as { name?: string })?.name;
      // The SDK aborts its own per-call timeout without a reason (the job's deadline is handled before classify).
      if (name === "AbortError") return { kind: "retryable", message: `${NAME} did not answer in time.`, providerCode: "timeout" };
      if (error instanceof SyntaxError)
        return { kind: "retryable", message: "The provider sent a response we could not read.", providerCode: "malformed-response" };
      return classifyTransport(error, NAME);
    },
  };
}

function assertAcceptable(req: ImageRequest): void {
  if (req.image.bytes.byteLength > MAX_INLINE_BYTES) {
    throw new AppError(
      "invalid-argument",
      "image: larger than Google Gemini accepts inline (7 MB); send a smaller photo or choose another provider",
      "provider-image-too-large",
    );
  }
}
