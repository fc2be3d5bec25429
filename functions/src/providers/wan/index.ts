/**
 * Alibaba Wan 2.5 image editing on Model Studio (DashScope): instruction edits and restyles that
 * keep the subject. Async: submit (with `X-DashScope-Async: enable`) returns a task id we poll at
 * `/api/v1/tasks/{id}`; the result is an OSS URL valid for 24 h, fetched at once without the key.
 * Keys are per region: the default is the international (Singapore) host; set
 * `WAN_BASE_URL=https://dashscope.aliyuncs.com` for China (Beijing), with a Beijing key.
 */
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { fetchResultImages } from "../download.js";
import { classifyWithCode, providerFetch, providerJson } from "../http.js";
import { instructionFor } from "../prompts.js";
import type { ImageProvider, ImageRequest, JobRef, Outcome } from "../types.js";
import { errorCodeOf, errorForCode, INPUT_LIMITS, NAME, outcomeOf, submitResponseSchema, taskResponseSchema } from "./api.js";

export const WAN_MODELS = ["wan2.5-i2i-preview"] as const;
export const WAN_HOSTS = { international: "https://dashscope-intl.aliyuncs.com", china: "https://dashscope.aliyuncs.com" } as const;

export interface WanOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createWanProvider(options: WanOptions): ImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("wan", WAN_HOSTS.international);
  const auth = { authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
  // Every API call keeps DashScope's error code from a non-2xx body for classify().
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const taskUrl = (job: JobRef) => `${baseUrl}/api/v1/tasks/${encodeURIComponent(job.id)}`;

  return {
    id: "wan",
    models: {
      // Not enhance: output is capped near 2 MP (≤ 1440×1440), so "enhancing" a phone photo would
      // shrink it; restoration is a wanx2.1 function offered in Beijing only. Not cutout: no alpha.
      defaults: { edit: WAN_MODELS[0], style: WAN_MODELS[0] },
      allowed: WAN_MODELS,
    },
    // DashScope asks for polls every 5–10 s; an edit typically takes 1–2 minutes.
    polling: { startMs: 5_000, factor: 1.5, maxMs: 10_000, deadlineMs: 5 * 60_000 },

    async submit(req, signal): Promise<JobRef> {
      assertAcceptedImage(req.image);
      const prompt = instructionFor(req);
      if (prompt.length > INPUT_LIMITS.maxPromptChars) {
        const excess = prompt.length - INPUT_LIMITS.maxPromptChars;
        throw new AppError("invalid-argument", `prompt: too long for ${NAME}; shorten it by ${excess} characters`, "prompt-too-long");
      }
      const body = {
        model: req.model,
        input: { prompt, images: [`data:${req.image.mime};base64,${Buffer.from(req.image.bytes).toString("base64")}`] },
        // Our instruction is precise: no LLM rewrite (slower, may drop "keep the face"), no label.
        parameters: { n: 1, prompt_extend: false, watermark: false },
      };
      // Not idempotent: DashScope has no idempotency key, and a retry could bill a second task.
      const task = await providerJson(
        {
          url: `${baseUrl}/api/v1/services/aigc/image2image/image-synthesis`,
          method: "POST",
          headers: { ...auth, "content-type": "application/json", "x-dashscope-async": "enable" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 60_000,
          ...api,
        },
        submitResponseSchema,
      );
      return { provider: "wan", id: task.output.task_id, submittedAt: Date.now() };
    },

    async poll(job, signal): Promise<Outcome> {
      const task = await providerJson({ url: taskUrl(job), headers: auth, signal, timeoutMs: 30_000, idempotent: true, ...api }, taskResponseSchema);
      return outcomeOf(task);
    },

    // The result lives on an OSS delivery host, not DashScope's API: it gets no key.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: options.fetch, mime: "image/png" }),

    // Called once the job's deadline has passed: stops a task still queued (only PENDING tasks can
    // be cancelled; for others DashScope answers an error, which the caller ignores).
    async cancel(job) {
      const res = await providerFetch({ url: `${taskUrl(job)}/cancel`, method: "POST", headers: auth, timeoutMs: 10_000, ...api });
      await res.body?.cancel();
    },

    classify: (error) => classifyWithCode(error, NAME, errorForCode),
  };
}

/** Refuses, before any upload, a photo Wan documents it cannot take (HEIC, under 384 px, over 10 MB). */
function assertAcceptedImage(image: ImageRequest["image"]): void {
  const { mimes, maxBytes, minSide, maxSide } = INPUT_LIMITS;
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!mimes.includes(image.mime)) throw refuse(`${NAME} accepts JPEG, PNG or WebP photos only`);
  if (image.bytes.byteLength > maxBytes) throw refuse(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(image.width, image.height) < minSide || Math.max(image.width, image.height) > maxSide) {
    throw refuse(`${NAME} accepts photos from ${minSide} to ${maxSide} pixels per side`);
  }
}
