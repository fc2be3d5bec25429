/**
 * Kling AI image-to-video: `POST /v1/videos/image2video` with the photo as raw base64 (the first
 * frame) and the job id as `external_task_id` (Kling's only idempotency key: a repeated start of
 * the same job is refused instead of billed twice), then `GET /v1/videos/image2video/{task_id}`.
 * Results are CDN URLs kept 30 days, streamed without any credential. Kling documents no cancel
 * and no delete. Auth: a short-lived HS256 JWT (jwt.ts), signed fresh for every call so a token
 * never expires while a job polls. Service codes are classified by the image adapter's api.ts.
 */
import type { z } from "zod";
import { optionIn, refuseImage, videoPromptWithin } from "../adapterKit.js";
import { providerBaseUrl } from "../baseUrl.js";
import { openResultStream } from "../download.js";
import { classifyWithCode, ProviderHttpError, providerJson, type HttpRequest } from "../http.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoStatus } from "../types.js";
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
      const mode = optionIn("mode", req.options?.mode ?? spec.modes[0], spec.modes, `${NAME} ${req.model} takes ${spec.modes.join(" or ")}`);
      const duration = optionIn("durationSeconds", req.options?.durationSeconds ?? DEFAULT_DURATION, spec.durations, `${NAME} ${req.model} makes clips of ${spec.durations.join(", ")} seconds`);
      const prompt = videoPromptWithin(req.prompt, INPUT_LIMITS.maxPromptChars, NAME);
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

    // The CDN is not Kling's API: it gets no token. Its URLs expire after 30 days.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: options.fetch }),

    classify: (error) => classifyWithCode(error, NAME, (code) => errorForCode(Number(code))),
  };
}

/** Refuses, before any upload, a photo Kling documents it cannot take: JPEG/PNG, ≤ 10 MB, sides ≥ 300 px, aspect 1:2.5–2.5:1. */
function assertAcceptedImage({ image }: VideoRequest): void {
  const { mimes, maxBytes, minSide, maxAspect } = INPUT_LIMITS;
  if (!mimes.includes(image.mime)) throw refuseImage(`${NAME} accepts JPEG or PNG photos only`);
  if (image.bytes.byteLength > maxBytes) throw refuseImage(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(image.width, image.height) < minSide) throw refuseImage(`${NAME} needs at least ${minSide} pixels per side`);
  if (Math.max(image.width, image.height) / Math.min(image.width, image.height) > maxAspect) throw refuseImage(`${NAME} accepts aspect ratios up to ${maxAspect}:1`);
}
