/**
 * Google Veo image-to-video on Vertex AI through `@google/genai` in Vertex mode: `generateVideos`
 * (`:predictLongRunning`) with the photo as inline bytes and the first frame, then one
 * `:fetchPredictOperation` per status call. The operation name is the task id. With
 * `outputGcsPrefix` Google writes the MP4 into our bucket (`{ gcsUri }`), else it comes back
 * inline (`{ bytes }`). Veo documents no cancel and no delete. Auth is ADC (the function's service
 * account), as for Gemini, through the same client (../vertex.ts); the SDK is imported on first use
 * only, never at cold start.
 *
 * Every HTTP call the SDK makes goes through our providerFetch (the SDK's `httpOptions.fetch`), so
 * Veo gets the same timeouts, Retry-After handling, never-retried start, retried status calls and
 * body-free errors as every other adapter. Test overrides as for Gemini: `project`, `location`,
 * `baseUrl` (else `VEO_BASE_URL`), `fetch`, `timeoutMs` (per attempt) and `authClient`.
 */
import { optionIn, refuseImage } from "../adapterKit.js";
import { bytesResultStream } from "../download.js";
import { videoInstructionFor } from "../prompts.js";
import { classifyWithCode, providerFetch } from "../http.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoStatus } from "../types.js";
import { loadSdk, vertexClient, type VertexOptions } from "../vertex.js";
import {
  aspectRatioFor,
  DEFAULT_DURATION,
  DEFAULT_MODEL,
  DURATIONS,
  errorCodeOf,
  errorForCode,
  INPUT_LIMITS,
  NAME,
  OPERATION_NAME,
  operationSchema,
  startResponseSchema,
  statusOf,
  VEO_MODELS,
} from "./api.js";

export { VEO_MODELS };

/** `location` defaults to GOOGLE_CLOUD_LOCATION, then us-central1 (where every Veo example runs). */
export interface VeoOptions extends VertexOptions {
  fetch?: typeof fetch;
  /** Per HTTP attempt; default 120 s to start (the photo travels inline), 60 s per status call (inline videos are MBs). */
  timeoutMs?: number;
}

export function createVeoProvider(options: VeoOptions = {}): VideoProvider {
  const getClient = vertexClient(
    {
      provider: "veo",
      defaultLocation: "us-central1",
      // v1: the version Vertex documents for Veo. No SDK timeout or retryOptions: providerFetch owns both.
      httpOptions: { apiVersion: "v1" },
    },
    options,
  );

  /** The SDK's fetch for one call: providerFetch with this call's idempotency, timeout and caller signal. */
  const sdkFetch =
    (idempotent: boolean, timeoutMs: number, signal?: AbortSignal): typeof fetch =>
    async (input, init) =>
      providerFetch({
        url: input instanceof Request ? input.url : String(input),
        method: (init?.method ?? "GET") as "GET" | "POST",
        headers: Object.fromEntries(new Headers(init?.headers)),
        body: init?.body as string | undefined,
        idempotent,
        timeoutMs,
        signal,
        fetch: options.fetch,
        errorCode: errorCodeOf,
      });

  return {
    id: "veo",
    models: { default: DEFAULT_MODEL, allowed: VEO_MODELS },
    // Clips take minutes (Google's own sample polls every 10 s); status calls share the project's quota.
    polling: { firstDelayMs: 30_000, intervalsMs: [15_000, 20_000, 30_000], deadlineMs: 20 * 60_000 },

    async start(req, signal): Promise<VideoOperation> {
      assertAcceptedImage(req);
      const durationSeconds = optionIn(
        "durationSeconds",
        req.options?.durationSeconds ?? DEFAULT_DURATION,
        DURATIONS,
        `${NAME} makes clips of ${DURATIONS.join(", ")} seconds`,
      );
      const operation = await (
        await getClient()
      ).models.generateVideos({
        model: req.model,
        source: {
          prompt: videoInstructionFor(req.prompt),
          image: { imageBytes: Buffer.from(req.image.bytes).toString("base64"), mimeType: req.image.mime },
        },
        config: {
          numberOfVideos: 1,
          personGeneration: "allow_adult", // a face photo: Veo's image-to-video setting for people
          aspectRatio: aspectRatioFor(req.image.width, req.image.height),
          durationSeconds,
          generateAudio: false, // no invented voices over a user's face; also cheaper
          ...(req.outputGcsPrefix && { outputGcsUri: req.outputGcsPrefix }),
          // Not idempotent: a resent start could bill a second video.
          httpOptions: { fetch: sdkFetch(false, options.timeoutMs ?? 120_000, signal) },
        },
      });
      const started = startResponseSchema.safeParse(operation);
      if (!started.success) throw malformed();
      return { id: started.data.name, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      // The SDK builds the poll URL from the name: only a Vertex operation name may go there.
      if (!OPERATION_NAME.test(op.id))
        throw new ProviderFailure({ kind: "permanent", message: `${NAME} task id is not an operation name.`, providerCode: "bad-task-id" });
      const { GenerateVideosOperation } = await loadSdk();
      const operation = Object.assign(new GenerateVideosOperation(), { name: op.id });
      const answer = await (
        await getClient()
      ).operations.getVideosOperation({
        operation,
        config: { httpOptions: { fetch: sdkFetch(true, options.timeoutMs ?? 60_000, signal) } },
      });
      const parsed = operationSchema.safeParse(answer);
      if (!parsed.success) throw malformed();
      return statusOf(parsed.data);
    },

    async openResult(result) {
      if ("bytes" in result) return bytesResultStream(result.bytes, "video/mp4");
      // gs:// results are adopted in our bucket by the job; Veo never hands out URLs.
      throw new ProviderFailure({ kind: "permanent", message: `${NAME} results are not opened as a stream here.`, providerCode: "unsupported-result" });
    },

    classify(error) {
      // The SDK reads response bodies itself: a 2xx that is not JSON surfaces as a SyntaxError.
      if (error instanceof SyntaxError) return malformed().error;
      return classifyWithCode(error, NAME, errorForCode);
    },
  };
}

/** Refuses, before any upload, a photo Veo documents it cannot take (only JPEG/PNG `mimeType`s). */
function assertAcceptedImage(req: VideoRequest): void {
  if (!INPUT_LIMITS.mimes.includes(req.image.mime)) throw refuseImage(`${NAME} accepts JPEG or PNG photos only`);
  if (req.image.bytes.byteLength > INPUT_LIMITS.maxBytes) throw refuseImage(`${NAME} accepts photos up to 20 MB`);
}

const malformed = () =>
  new ProviderFailure({ kind: "retryable", message: "The provider sent a response we could not read.", providerCode: "malformed-response" });
