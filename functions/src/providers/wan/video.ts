/**
 * Alibaba Wan image-to-video on Model Studio (DashScope): `POST
 * /api/v1/services/aigc/video-generation/video-synthesis` (with `X-DashScope-Async: enable`) with
 * the photo as a Base64 data URI in `img_url` (the first frame), then `GET /api/v1/tasks/{id}`.
 * The result is an OSS presigned URL; task data (and the URL) live 24 h, so it is streamed at once,
 * without our key. `POST /api/v1/tasks/{id}/cancel` stops a task still PENDING; there is no delete.
 * Same region, key and `WAN_BASE_URL` as the image adapter (default: international, Singapore).
 */
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, isLoopback, providerFetch, ProviderHttpError, providerJson } from "../http.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoResultRef, type VideoStatus } from "../types.js";
import { errorCodeOf, NAME } from "./api.js";
import { WAN_HOSTS } from "./index.js";
import { DEFAULT_DURATION, DEFAULT_VIDEO_MODEL, DURATIONS, startResponseSchema, statusOf, taskSchema, VIDEO_INPUT_LIMITS, videoErrorForCode, WAN_VIDEO_MODELS } from "./videoApi.js";

export { WAN_VIDEO_MODELS };

export interface WanVideoOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

/** What a user's photo becomes when they give no direction; the identity line is always added. */
const DEFAULT_PROMPT = "The person in the photo comes gently to life: a natural smile, a slight head turn, soft blinking, subtle natural camera movement.";
const KEEP_IDENTITY = "Keep the person's face and identity exactly as in the photo.";

export function createWanVideoProvider(options: WanVideoOptions): VideoProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("wan", WAN_HOSTS.international);
  const headers = { authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
  // Every API call keeps DashScope's error code from a non-2xx body for classify().
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const taskUrl = (op: VideoOperation) => `${baseUrl}/api/v1/tasks/${encodeURIComponent(op.id)}`;

  return {
    id: "wan",
    models: { default: DEFAULT_VIDEO_MODEL, allowed: WAN_VIDEO_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s, 15 min): the docs give 1–5 minutes per clip
    // and no poll interval; it also keeps us far below the query API's 20 QPS per account.

    async start(req, signal): Promise<VideoOperation> {
      const image = acceptedDataUri(req);
      const prompt = `${req.prompt?.trim() || DEFAULT_PROMPT} ${KEEP_IDENTITY}`;
      if (prompt.length > VIDEO_INPUT_LIMITS.maxPromptChars) {
        throw new AppError("invalid-argument", `prompt: too long for ${NAME}; shorten it by ${prompt.length - VIDEO_INPUT_LIMITS.maxPromptChars} characters`, "prompt-too-long");
      }
      const duration = req.options?.durationSeconds ?? DEFAULT_DURATION;
      const durations = DURATIONS[req.model] ?? [DEFAULT_DURATION];
      if (!(durations as readonly unknown[]).includes(duration)) {
        throw new AppError("invalid-argument", `options.durationSeconds: ${NAME} ${req.model} makes clips of ${durations.join(", ")} seconds`, "option-invalid");
      }
      const body = {
        model: req.model,
        input: { prompt, img_url: image },
        // Our prompt is precise: no LLM rewrite (may drop the identity line), no label, no
        // auto-dubbing (on by default for 2.5/2.6; a face animation is silent, and cheaper).
        parameters: { resolution: "720P", duration, prompt_extend: false, watermark: false, audio: false },
      };
      // Not idempotent: DashScope has no idempotency key, and a retry could bill a second task.
      const task = await providerJson(
        {
          url: `${baseUrl}/api/v1/services/aigc/video-generation/video-synthesis`,
          method: "POST",
          headers: { ...headers, "content-type": "application/json", "x-dashscope-async": "enable" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 60_000,
          ...api,
        },
        startResponseSchema,
      );
      return { id: task.output.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const task = await providerJson({ url: taskUrl(op), headers, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskSchema);
      return statusOf(task);
    },

    openResult: (result, signal) => openResult(result, options.fetch, signal),

    // Only PENDING tasks can be cancelled; for others DashScope answers an error, which the caller
    // (deadline, user cancel) ignores. Asking twice cannot bill twice, so retries are safe.
    async cancel(op) {
      const res = await providerFetch({ url: `${taskUrl(op)}/cancel`, method: "POST", headers, timeoutMs: 15_000, idempotent: true, ...api });
      await res.body?.cancel();
    },

    classify: (error) => classifyWithCode(error, NAME, videoErrorForCode),
  };
}

/** The photo as a data URI, refused before sending when Wan documents it cannot take it. */
function acceptedDataUri(req: VideoRequest): string {
  const { mimes, maxBytes, minSide, maxSide } = VIDEO_INPUT_LIMITS;
  const { mime, bytes, width, height } = req.image;
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!mimes.includes(mime)) throw refuse(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (bytes.byteLength > maxBytes) throw refuse(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(width, height) < minSide || Math.max(width, height) > maxSide) throw refuse(`${NAME} accepts photos from ${minSide} to ${maxSide} pixels per side`);
  return `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`;
}

/**
 * Streams a result URL (OSS, not DashScope's API: it gets no key). Mirrors download.ts: https only
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
