/**
 * Kling AI image-to-video: `POST /v1/videos/image2video` with the photo as raw base64 (the first
 * frame) and the job id as `external_task_id` (Kling's only idempotency key: a repeated start of
 * the same job is refused instead of billed twice), then `GET /v1/videos/image2video/{task_id}`.
 * Results are CDN URLs kept 30 days, streamed without any credential. Kling documents no cancel
 * and no delete. Auth: a short-lived HS256 JWT (jwt.ts), signed fresh for every call so a token
 * never expires while a job polls. Service codes are classified by the image adapter's api.ts.
 */
import type { z } from "zod";
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, isLoopback, providerFetch, ProviderHttpError, providerJson, type HttpRequest } from "../http.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoResultRef, type VideoStatus } from "../types.js";
import { errorCodeOf, errorForCode, INPUT_LIMITS, isTokenRejected, NAME, submitResponseSchema } from "./api.js";
import { signKlingToken } from "./jwt.js";
import { DEFAULT_DURATION, DEFAULT_MODEL, KLING_VIDEO_MODELS, MODEL_SPECS, statusOf, videoTaskResponseSchema } from "./videoApi.js";

export { KLING_VIDEO_MODELS };

export interface KlingVideoOptions {
  accessKey: string;
  secretKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

/** What a user's photo becomes when they give no direction; the identity line is always added. */
const DEFAULT_PROMPT = "The person in the photo comes gently to life: a natural smile, a slight head turn, soft blinking, subtle natural camera movement.";
const KEEP_IDENTITY = "Keep the person's face and identity exactly as in the photo.";

export function createKlingVideoProvider(options: KlingVideoOptions): VideoProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("kling", "https://api-singapore.klingai.com");
  const taskUrl = (op: VideoOperation) => `${baseUrl}/v1/videos/image2video/${encodeURIComponent(op.id)}`;

  /**
   * Calls Kling and unwraps its envelope: a non-zero `code` is an error even with HTTP 200, and a
   * non-2xx body's code is kept too (errorCodeOf), so both reach classify() as ProviderHttpError.code.
   */
  type Envelope = { code: number; request_id?: string; data?: unknown };
  async function call<S extends z.ZodType<Envelope>>(req: Omit<HttpRequest, "headers" | "fetch" | "errorCode">, schema: S): Promise<NonNullable<z.infer<S>["data"]>> {
    const headers = {
      authorization: `Bearer ${signKlingToken(options.accessKey, options.secretKey)}`,
      accept: "application/json",
      ...(req.body !== undefined && { "content-type": "application/json" }),
    };
    const body = await providerJson({ ...req, headers, fetch: options.fetch, errorCode: errorCodeOf }, schema);
    if (body.code !== 0) throw new ProviderHttpError(200, undefined, body.request_id, String(body.code));
    if (!body.data) throw new ProviderFailure({ kind: "retryable", message: `${NAME} sent a response we could not read.`, providerCode: "malformed-response" });
    return body.data as NonNullable<z.infer<S>["data"]>;
  }

  return {
    id: "kling",
    models: { default: DEFAULT_MODEL, allowed: KLING_VIDEO_MODELS },
    // Default cadence (first poll 15 s, then 10 → 30 s; third parties poll every ~10 s). Std clips
    // take 0.5–2 min, pro/long ones up to ~5 min plus queueing: allow 20 minutes.
    polling: { deadlineMs: 20 * 60_000 },

    async start(req, signal): Promise<VideoOperation> {
      assertAcceptedImage(req);
      const spec = MODEL_SPECS[req.model] ?? MODEL_SPECS[DEFAULT_MODEL]!;
      const mode = req.options?.mode ?? spec.modes[0];
      if (!(spec.modes as readonly unknown[]).includes(mode)) {
        throw new AppError("invalid-argument", `options.mode: ${NAME} ${req.model} takes ${spec.modes.join(" or ")}`, "option-invalid");
      }
      const duration = req.options?.durationSeconds ?? DEFAULT_DURATION;
      if (!(spec.durations as readonly unknown[]).includes(duration)) {
        throw new AppError("invalid-argument", `options.durationSeconds: ${NAME} ${req.model} makes clips of ${spec.durations.join(", ")} seconds`, "option-invalid");
      }
      const prompt = `${req.prompt?.trim() || DEFAULT_PROMPT} ${KEEP_IDENTITY}`;
      if (prompt.length > INPUT_LIMITS.maxPromptChars) {
        throw new AppError("invalid-argument", `prompt: too long for ${NAME}; shorten it by ${prompt.length - INPUT_LIMITS.maxPromptChars} characters`, "prompt-too-long");
      }
      const body = {
        model_name: req.model, // not the legacy `model` field, which means v1
        image: Buffer.from(req.image.bytes).toString("base64"), // raw base64: Kling rejects a data: prefix
        prompt,
        mode,
        duration: String(duration), // a string enum in Kling's schema
        ...(spec.sound && { sound: "off" }),
        external_task_id: req.jobId,
      };
      // Not idempotent: a retry could start (and bill) a second task.
      const task = await call({ url: `${baseUrl}/v1/videos/image2video`, method: "POST", body: JSON.stringify(body), signal, timeoutMs: 60_000 }, submitResponseSchema);
      return { id: task.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const get = () => call({ url: taskUrl(op), signal, timeoutMs: 30_000, idempotent: true }, videoTaskResponseSchema);
      try {
        return statusOf(await get());
      } catch (error) {
        // 1003/1004: the token was not (yet) valid at Kling's clock. A status call is idempotent: re-sign once.
        if (!(error instanceof ProviderHttpError && isTokenRejected(Number(error.code)))) throw error;
        return statusOf(await get());
      }
    },

    // The CDN is not Kling's API: it gets no token.
    openResult: (result, signal) => openResult(result, options.fetch, signal),

    classify: (error) => classifyWithCode(error, NAME, (code) => errorForCode(Number(code))),
  };
}

/** Refuses, before any upload, a photo Kling documents it cannot take: JPEG/PNG, ≤ 10 MB, sides ≥ 300 px, aspect 1:2.5–2.5:1. */
function assertAcceptedImage({ image }: VideoRequest): void {
  const { mimes, maxBytes, minSide, maxAspect } = INPUT_LIMITS;
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!mimes.includes(image.mime)) throw refuse(`${NAME} accepts JPEG or PNG photos only`);
  if (image.bytes.byteLength > maxBytes) throw refuse(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(image.width, image.height) < minSide) throw refuse(`${NAME} needs at least ${minSide} pixels per side`);
  if (Math.max(image.width, image.height) / Math.min(image.width, image.height) > maxAspect) throw refuse(`${NAME} accepts aspect ratios up to ${maxAspect}:1`);
}

/**
 * Streams a result URL without any credential. Mirrors download.ts: https only (loopback for
 * fakes), and 401/403/404/410 mean the URL has expired or was purged (Kling keeps 30 days).
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
