/**
 * ByteDance Seedance image-to-video on Volcengine Ark (default, Beijing) or BytePlus ModelArk
 * (SEEDANCE_BASE_URL=https://ark.ap-southeast.bytepluses.com/api/v3, with a BytePlus key).
 * `POST /contents/generations/tasks` with the prompt and the photo as a data URL (first frame), then
 * `GET /contents/generations/tasks/{id}`; the result is a TOS presigned URL valid 24 h, streamed
 * without our key. `DELETE /contents/generations/tasks/{id}` cancels a queued task and deletes a
 * finished one's record: it serves both cancel and deleteTask. Ark names its errors (moderation,
 * real faces on Seedance 2.0, unpaid account) by code: one mapping in api.ts.
 */
import { dataUrlOf, deleteProviderTask, optionIn, refuseImage } from "../adapterKit.js";
import { providerBaseUrl } from "../baseUrl.js";
import { openResultStream } from "../download.js";
import { classifyWithCode, providerJson } from "../http.js";
import { videoInstructionFor } from "../prompts.js";
import { errorCodeOf, VOLCENGINE_BASE_URL } from "../seedream/api.js";
import type { VideoOperation, VideoProvider, VideoRequest, VideoStatus } from "../types.js";
import {
  catalogFor,
  DEFAULT_DURATION,
  durationsFor,
  errorForCode,
  INPUT_LIMITS,
  NAME,
  startResponseSchema,
  statusOf,
  takesAudioFlag,
  taskSchema,
} from "./api.js";

export interface SeedanceOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

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
  const deleteAtArk = (op: VideoOperation) => deleteProviderTask({ url: taskUrl(op), headers, timeoutMs: 15_000, ...api });

  return {
    id: "seedance",
    models: { default: catalog.defaultModel, allowed: catalog.models },
    // Default cadence (first poll 15 s, then 10 → 30 s, 15 min): Ark says "tens of seconds to
    // minutes" and gives no poll interval of its own.

    async start(req, signal): Promise<VideoOperation> {
      const image = acceptedDataUrl(req);
      const durations = durationsFor(req.model);
      const duration = optionIn(
        "durationSeconds",
        req.options?.durationSeconds ?? DEFAULT_DURATION,
        durations,
        `${NAME} ${req.model} makes clips of ${durations[0]}–${durations.at(-1)} seconds`,
      );
      const body = {
        model: req.model,
        content: [
          { type: "text", text: videoInstructionFor(req.prompt) },
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
        {
          url: tasksUrl,
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 60_000,
          ...api,
        },
        startResponseSchema,
      );
      return { id: task.id, model: req.model };
    },

    async status(op, signal): Promise<VideoStatus> {
      const task = await providerJson({ url: taskUrl(op), headers, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskSchema);
      return statusOf(task);
    },

    // TOS, not Ark's API: it gets no key. The presigned URL expires after 24 h.
    openResult: (result, signal) => openResultStream(result, NAME, { signal, fetch: options.fetch }),

    cancel: deleteAtArk,
    deleteTask: deleteAtArk,

    classify: (error) => classifyWithCode(error, NAME, errorForCode),
  };
}

/** The photo as a data URL, refused before sending when Ark documents it cannot take it. */
function acceptedDataUrl(req: VideoRequest): string {
  const { mimes, maxBytes, minSide, maxSide, minAspect, maxAspect } = INPUT_LIMITS;
  const { mime, bytes, width, height } = req.image;
  if (!mimes.includes(mime)) throw refuseImage(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (bytes.byteLength > maxBytes) throw refuseImage(`${NAME} accepts photos up to 30 MB`);
  if (Math.min(width, height) < minSide || Math.max(width, height) > maxSide)
    throw refuseImage(`${NAME} accepts photos from ${minSide} to ${maxSide} pixels per side`);
  const aspect = width / height;
  if (aspect < minAspect || aspect > maxAspect) throw refuseImage(`${NAME} accepts photos with an aspect ratio between 2:5 and 5:2`);
  return dataUrlOf(req.image);
}
