/**
 * ByteDance Seedance image-to-video on Volcengine Ark (default, Beijing) or BytePlus ModelArk
 * (SEEDANCE_BASE_URL=https://ark.ap-southeast.bytepluses.com/api/v3, with a BytePlus key).
 * `POST /contents/generations/tasks` with the prompt and the photo as a data URL (first frame), then
 * `GET /contents/generations/tasks/{id}`; the result is a TOS presigned URL valid 24 h, streamed
 * without our key. `DELETE /contents/generations/tasks/{id}` cancels a queued task and deletes a
 * finished one's record: it serves both cancel and deleteTask. Ark names its errors (moderation,
 * real faces on Seedance 2.0, unpaid account) by code: one mapping in api.ts.
 */
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, isLoopback, providerFetch, ProviderHttpError, providerJson } from "../http.js";
import { errorCodeOf, VOLCENGINE_BASE_URL } from "../seedream/api.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoResultRef, type VideoStatus } from "../types.js";
import { catalogFor, DEFAULT_DURATION, durationsFor, errorForCode, INPUT_LIMITS, NAME, startResponseSchema, statusOf, takesAudioFlag, taskSchema } from "./api.js";

export interface SeedanceOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

/** What a user's photo becomes when they give no direction; the identity line is always added. */
const DEFAULT_PROMPT = "The person in the photo comes gently to life: a natural smile, a slight head turn, soft blinking, subtle natural camera movement.";
const KEEP_IDENTITY = "Keep the person's face and identity exactly as in the photo.";

export function createSeedanceProvider(options: SeedanceOptions): VideoProvider {
  // One Ark key (ARK_API_KEY) serves Seedream and Seedance, but each has its own base-URL override.
  const baseUrl = options.baseUrl ?? providerBaseUrl("seedance", VOLCENGINE_BASE_URL);
  const catalog = catalogFor(baseUrl);
  const headers = { authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
  // Every API call keeps Ark's `error.code` from a non-2xx body for classify().
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const tasksUrl = `${baseUrl}/contents/generations/tasks`;
  const taskUrl = (op: VideoOperation) => `${tasksUrl}/${encodeURIComponent(op.id)}`;

  /** DELETE: cancels a queued task, deletes a finished one (a running one refuses); gone already (404) is done. */
  async function deleteAtArk(op: VideoOperation): Promise<void> {
    try {
      const res = await providerFetch({ url: taskUrl(op), method: "DELETE", headers, timeoutMs: 15_000, idempotent: true, ...api });
      await res.body?.cancel();
    } catch (error) {
      if (!(error instanceof ProviderHttpError && error.status === 404)) throw error;
    }
  }

  return {
    id: "seedance",
    models: { default: catalog.defaultModel, allowed: catalog.models },
    // Default cadence (first poll 15 s, then 10 → 30 s, 15 min): Ark says "tens of seconds to
    // minutes" and gives no poll interval of its own.

    async start(req, signal): Promise<VideoOperation> {
      const image = acceptedDataUrl(req);
      const duration = req.options?.durationSeconds ?? DEFAULT_DURATION;
      const durations = durationsFor(req.model);
      if (!(durations as readonly unknown[]).includes(duration)) {
        throw new AppError("invalid-argument", `options.durationSeconds: ${NAME} ${req.model} makes clips of ${durations[0]}–${durations.at(-1)} seconds`, "option-invalid");
      }
      const body = {
        model: req.model,
        content: [
          { type: "text", text: `${req.prompt?.trim() || DEFAULT_PROMPT} ${KEEP_IDENTITY}` },
          { type: "image_url", image_url: { url: image }, role: "first_frame" },
        ],
        ratio: "adaptive", // the photo's own framing
        resolution: "720p",
        duration,
        watermark: false,
        ...(takesAudioFlag(req.model) && { generate_audio: false }),
      };
      // Not idempotent: Ark has no idempotency key, and a retry could bill a second task.
      const task = await providerJson(
        { url: tasksUrl, method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body), signal, timeoutMs: 60_000, ...api },
        startResponseSchema,
      );
      return { id: task.id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const task = await providerJson({ url: taskUrl(op), headers, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskSchema);
      return statusOf(task);
    },

    openResult: (result, signal) => openResult(result, options.fetch, signal),

    cancel: deleteAtArk,
    deleteTask: deleteAtArk,

    classify: (error) => classifyWithCode(error, NAME, errorForCode),
  };
}

/** The photo as a data URL, refused before sending when Ark documents it cannot take it. */
function acceptedDataUrl(req: VideoRequest): string {
  const { mimes, maxBytes, minSide, maxSide, minAspect, maxAspect } = INPUT_LIMITS;
  const { mime, bytes, width, height } = req.image;
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!mimes.includes(mime)) throw refuse(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (bytes.byteLength > maxBytes) throw refuse(`${NAME} accepts photos up to 30 MB`);
  if (Math.min(width, height) < minSide || Math.max(width, height) > maxSide) throw refuse(`${NAME} accepts photos from ${minSide} to ${maxSide} pixels per side`);
  const aspect = width / height;
  if (aspect < minAspect || aspect > maxAspect) throw refuse(`${NAME} accepts photos with an aspect ratio between 2:5 and 5:2`);
  return `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`;
}

/**
 * Streams a result URL (TOS, not Ark's API: it gets no key). Mirrors download.ts: https only
 * (loopback for fakes), and 401/403/404/410 mean the presigned URL has expired (24 h).
 */
async function openResult(result: VideoResultRef, doFetch: typeof fetch | undefined, signal?: AbortSignal) {
  if (!("url" in result)) throw new ProviderFailure({ kind: "permanent", message: `${NAME} results are URLs only.`, providerCode: "unsupported-result" });
  const url = new URL(result.url);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} returned a result we cannot fetch securely.`, providerCode: "insecure-result-url" });
  }
  let res: Response;
  try {
    // The timeout also bounds reading the body: allow a whole clip to stream.
    res = await providerFetch({ url: url.href, signal, timeoutMs: 5 * 60_000, idempotent: true, fetch: doFetch });
  } catch (error) {
    if (error instanceof ProviderHttpError && [401, 403, 404, 410].includes(error.status)) {
      throw new ProviderFailure({ kind: "permanent", message: `${NAME}'s result expired before we could fetch it.`, providerCode: "result-expired", httpStatus: error.status });
    }
    throw error;
  }
  if (!res.body) throw new ProviderFailure({ kind: "retryable", message: `${NAME} sent an empty result.`, providerCode: "empty-result" });
  const length = Number(res.headers.get("content-length"));
  return { body: res.body, contentType: res.headers.get("content-type") ?? undefined, ...(res.headers.has("content-length") && Number.isFinite(length) && { contentLength: length }) };
}
