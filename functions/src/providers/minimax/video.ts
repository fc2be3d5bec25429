/**
 * MiniMax Hailuo image-to-video (v1 API): `POST /v1/video_generation` with the photo as a data URL
 * (`first_frame_image`), then `GET /v1/query/video_generation?task_id=`; on `Success` the same
 * status call asks `GET /v1/files/retrieve?file_id=` for the `download_url`, so the result handed
 * to the job is a fresh URL (it expires within hours; a later status call fetches a new one).
 * Business errors arrive as HTTP 200 with `base_resp.status_code != 0`: every answer is checked.
 * MiniMax documents no cancel and no delete for video tasks. MiniMax has no idempotency key.
 */
import type { z } from "zod";
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, isLoopback, providerFetch, ProviderHttpError, providerJson, type HttpRequest } from "../http.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoResultRef, type VideoStatus } from "../types.js";
import { DEFAULT_BASE_URL, errorCodeOf, NAME } from "./api.js";
import {
  DEFAULT_DURATION,
  DEFAULT_MODEL,
  DEFAULT_RESOLUTION,
  INPUT_LIMITS,
  MINIMAX_VIDEO_MODELS,
  MODEL_SPECS,
  queryResponseSchema,
  retrieveResponseSchema,
  startResponseSchema,
  statusOf,
  videoErrorForCode,
} from "./videoApi.js";

export { MINIMAX_VIDEO_MODELS };

export interface MinimaxVideoOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

/** What a user's photo becomes when they give no direction; the identity line is always added. */
const DEFAULT_PROMPT = "The person in the photo comes gently to life: a natural smile, a slight head turn, soft blinking, subtle natural camera movement.";
const KEEP_IDENTITY = "Keep the person's face and identity exactly as in the photo.";

export function createMinimaxVideoProvider(options: MinimaxVideoOptions): VideoProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("minimax", DEFAULT_BASE_URL);
  const apiHost = new URL(baseUrl).host;
  const auth = { authorization: `Bearer ${options.apiKey}` };

  /** Calls MiniMax; a non-zero `base_resp` (HTTP 200 or not) reaches classify() as ProviderHttpError.code. */
  async function call<S extends z.ZodType<{ base_resp?: { status_code: number } | null }>>(
    req: Omit<HttpRequest, "headers" | "fetch" | "errorCode">,
    schema: S,
    acceptCode?: (body: z.infer<S>) => boolean,
  ): Promise<z.infer<S>> {
    const headers = { ...auth, accept: "application/json", ...(req.body !== undefined && { "content-type": "application/json" }) };
    const body = await providerJson({ ...req, headers, fetch: options.fetch, errorCode: errorCodeOf }, schema);
    const code = body.base_resp?.status_code ?? 0;
    if (code !== 0 && !acceptCode?.(body)) throw new ProviderHttpError(200, undefined, undefined, String(code));
    return body;
  }
  const malformed = () => new ProviderFailure({ kind: "retryable", message: `${NAME} sent a response we could not read.`, providerCode: "malformed-response" });

  return {
    id: "minimax",
    models: { default: DEFAULT_MODEL, allowed: MINIMAX_VIDEO_MODELS },
    // Clips take ~4–5 min; MiniMax's own MCP polls every 20 s and waits 10 min (20 for Hailuo-02):
    // first look at 30 s, then 15 → 30 s, and allow 25 minutes.
    polling: { firstDelayMs: 30_000, intervalsMs: [15_000, 20_000, 30_000], deadlineMs: 25 * 60_000 },

    async start(req, signal): Promise<VideoOperation> {
      const firstFrame = acceptedDataUrl(req);
      const resolutions = MODEL_SPECS[req.model] ?? MODEL_SPECS[DEFAULT_MODEL]!;
      const resolution = req.options?.resolution ?? DEFAULT_RESOLUTION;
      const durations = typeof resolution === "string" ? resolutions[resolution] : undefined;
      if (!durations) {
        throw new AppError("invalid-argument", `options.resolution: ${NAME} ${req.model} takes ${Object.keys(resolutions).join(", ")}`, "option-invalid");
      }
      const duration = req.options?.durationSeconds ?? DEFAULT_DURATION;
      if (!(durations as readonly unknown[]).includes(duration)) {
        throw new AppError("invalid-argument", `options.durationSeconds: ${NAME} ${req.model} at ${resolution} makes clips of ${durations.join(", ")} seconds`, "option-invalid");
      }
      const prompt = `${req.prompt?.trim() || DEFAULT_PROMPT} ${KEEP_IDENTITY}`;
      if (prompt.length > INPUT_LIMITS.maxPromptChars) {
        throw new AppError("invalid-argument", `prompt: too long for ${NAME}; shorten it by ${prompt.length - INPUT_LIMITS.maxPromptChars} characters`, "prompt-too-long");
      }
      const body = {
        model: req.model,
        first_frame_image: firstFrame,
        prompt,
        prompt_optimizer: false, // our instruction (with its identity line), not a rewritten one
        duration,
        resolution,
      };
      // Not idempotent: MiniMax has no idempotency key, so a retried call could bill a second task.
      const started = await call({ url: `${baseUrl}/v1/video_generation`, method: "POST", body: JSON.stringify(body), signal, timeoutMs: 120_000 }, startResponseSchema);
      if (!started.task_id) throw malformed();
      return { id: started.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const get = <S extends Parameters<typeof call>[1]>(path: string, schema: S, acceptCode?: (body: z.infer<S>) => boolean) =>
        call({ url: `${baseUrl}${path}`, signal, timeoutMs: 30_000, idempotent: true }, schema, acceptCode);
      // A `Fail` task carries its cause in base_resp: that is a status, not a failed call.
      const query = await get(`/v1/query/video_generation?task_id=${encodeURIComponent(op.id)}`, queryResponseSchema, (q) => q.status === "Fail");
      if (!query.status) throw malformed();
      const mapped = statusOf({ ...query, status: query.status });
      if (!("fileId" in mapped)) return mapped;
      const retrieved = await get(`/v1/files/retrieve?file_id=${encodeURIComponent(mapped.fileId)}`, retrieveResponseSchema);
      const url = retrieved.file?.download_url;
      if (!url) throw malformed();
      return { state: "succeeded", result: { url }, raw: query.status };
    },

    openResult: (result, signal) => openResult(result, { apiHost, auth, fetch: options.fetch }, signal),

    // The body's code says more than the HTTP status; the status still carries Retry-After.
    classify: (error) => classifyWithCode(error, NAME, (code) => videoErrorForCode(Number(code))),
  };
}

/** The photo as a data URL, refused before sending when MiniMax documents it cannot take it. */
function acceptedDataUrl({ image }: VideoRequest): string {
  const { mimes, maxBytes, minShortSide, maxAspect } = INPUT_LIMITS;
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!mimes.includes(image.mime)) throw refuse(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (image.bytes.byteLength >= maxBytes) throw refuse(`${NAME} accepts photos under 20 MB`);
  const short = Math.min(image.width, image.height);
  if (short < minShortSide) throw refuse(`${NAME} needs more than ${minShortSide - 1} pixels on the short side`);
  if (Math.max(image.width, image.height) / short > maxAspect) throw refuse(`${NAME} accepts aspect ratios between 2:5 and 5:2`);
  return `data:${image.mime};base64,${Buffer.from(image.bytes).toString("base64")}`;
}

/**
 * Streams `download_url`. It is a signed object-storage link that MiniMax's own tools fetch
 * without a key: our key goes only to MiniMax's API host itself, never a delivery host. Mirrors
 * download.ts: https only (loopback for fakes); 401/403/404/410 mean the link has expired.
 */
async function openResult(result: VideoResultRef, ctx: { apiHost: string; auth: Record<string, string>; fetch?: typeof fetch }, signal?: AbortSignal) {
  if (!("url" in result)) throw new ProviderFailure({ kind: "permanent", message: `${NAME} results are URLs only.`, providerCode: "unsupported-result" });
  const url = new URL(result.url);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new ProviderFailure({ kind: "permanent", message: `${NAME} returned a result we cannot fetch securely.`, providerCode: "insecure-result-url" });
  }
  const headers = url.host === ctx.apiHost ? ctx.auth : undefined;
  let res: Response;
  try {
    // The timeout also bounds reading the body: allow a whole clip to stream.
    res = await providerFetch({ url: url.href, headers, signal, timeoutMs: 5 * 60_000, idempotent: true, fetch: ctx.fetch });
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
