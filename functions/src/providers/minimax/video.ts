/**
 * MiniMax Hailuo image-to-video (v1 API): `POST /v1/video_generation` with the photo as a data URL
 * (`first_frame_image`), then `GET /v1/query/video_generation?task_id=`; on `Success` the same
 * status call asks `GET /v1/files/retrieve?file_id=` for the `download_url`, so the result handed
 * to the job is a fresh URL (it expires within hours; a later status call fetches a new one).
 * Business errors arrive as HTTP 200 with `base_resp.status_code != 0`: every answer is checked.
 * MiniMax documents no cancel and no delete for video tasks. MiniMax has no idempotency key.
 */
import type { z } from "zod";
import { dataUrlOf, optionIn, refuseImage, videoPromptWithin } from "../adapterKit.js";
import { openResultStream } from "../download.js";
import { ProviderFailure, type VideoOperation, type VideoProvider, type VideoRequest, type VideoStatus } from "../types.js";
import { NAME } from "./api.js";
import { createMinimaxClient, type MinimaxClientOptions } from "./client.js";
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

export type MinimaxVideoOptions = MinimaxClientOptions;

export function createMinimaxVideoProvider(options: MinimaxVideoOptions): VideoProvider {
  const minimax = createMinimaxClient(options);
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
      const offered = Object.keys(resolutions);
      const resolution = optionIn("resolution", req.options?.resolution ?? DEFAULT_RESOLUTION, offered, `${NAME} ${req.model} takes ${offered.join(", ")}`);
      const durations = resolutions[resolution]!;
      const duration = optionIn(
        "durationSeconds",
        req.options?.durationSeconds ?? DEFAULT_DURATION,
        durations,
        `${NAME} ${req.model} at ${resolution} makes clips of ${durations.join(", ")} seconds`,
      );
      const prompt = videoPromptWithin(req.prompt, INPUT_LIMITS.maxPromptChars, NAME);
      const body = {
        model: req.model,
        first_frame_image: firstFrame,
        prompt,
        prompt_optimizer: false, // our instruction (with its identity line), not a rewritten one
        duration,
        resolution,
      };
      // Not idempotent: MiniMax has no idempotency key, so a retried call could bill a second task.
      const started = await minimax.call(
        "/v1/video_generation",
        { method: "POST", body: JSON.stringify(body), signal, timeoutMs: 120_000 },
        startResponseSchema,
      );
      if (!started.task_id) throw malformed();
      return { id: started.task_id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const get = <S extends Parameters<typeof minimax.call>[2]>(path: string, schema: S, acceptCode?: (body: z.infer<S>) => boolean) =>
        minimax.call(path, { signal, timeoutMs: 30_000, idempotent: true }, schema, acceptCode);
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

    // `download_url` is a signed object-storage link that MiniMax's own tools fetch without a key:
    // our key goes only to MiniMax's API host itself, never a delivery host. It expires within hours.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: minimax.fetch, headersFor: minimax.headersFor }),

    classify: (error) => minimax.classify(error, videoErrorForCode),
  };
}

/** The photo as a data URL, refused before sending when MiniMax documents it cannot take it. */
function acceptedDataUrl({ image }: VideoRequest): string {
  const { mimes, maxBytes, minShortSide, maxAspect } = INPUT_LIMITS;
  if (!mimes.includes(image.mime)) throw refuseImage(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (image.bytes.byteLength >= maxBytes) throw refuseImage(`${NAME} accepts photos under 20 MB`);
  const short = Math.min(image.width, image.height);
  if (short < minShortSide) throw refuseImage(`${NAME} needs more than ${minShortSide - 1} pixels on the short side`);
  if (Math.max(image.width, image.height) / short > maxAspect) throw refuseImage(`${NAME} accepts aspect ratios between 2:5 and 5:2`);
  return dataUrlOf(image);
}
