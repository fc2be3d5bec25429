/**
 * Alibaba Wan 2.5 image editing on Model Studio (DashScope): instruction edits and restyles that
 * keep the subject. Async: submit (with `X-DashScope-Async: enable`) returns a task id we poll at
 * `/api/v1/tasks/{id}`; the result is an OSS URL valid for 24 h, fetched at once without the key.
 * Keys are per region: the default is the international (Singapore) host; set
 * `WAN_BASE_URL=https://dashscope.aliyuncs.com` for China (Beijing), with a Beijing key.
 */
import { AppError } from "../../errors.js";
import { fetchResultImages } from "../download.js";
import { instructionFor } from "../prompts.js";
import type { AsyncImageProvider, ImageRequest, JobRef, Outcome } from "../types.js";
import { INPUT_LIMITS, NAME, outcomeOf, submitResponseSchema, taskResponseSchema } from "./api.js";
import { createWanClient, WAN_HOSTS, type WanClientOptions } from "./client.js";

export const WAN_MODELS = ["wan2.5-i2i-preview"] as const;
export { WAN_HOSTS };
export type WanOptions = WanClientOptions;

export function createWanProvider(options: WanOptions): AsyncImageProvider {
  const dashscope = createWanClient(options);

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
      const task = await dashscope.startTask("/api/v1/services/aigc/image2image/image-synthesis", body, submitResponseSchema, signal);
      return { provider: "wan", id: task.output.task_id, submittedAt: Date.now() };
    },

    async poll(job, signal): Promise<Outcome> {
      return outcomeOf(await dashscope.readTask(job.id, taskResponseSchema, signal));
    },

    // The result lives on an OSS delivery host, not DashScope's API: it gets no key.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: dashscope.fetch, mime: "image/png" }),

    // Called once the job's deadline has passed: stops a task still queued (client.ts).
    cancel: (job) => dashscope.cancelTask(job.id, 10_000),

    classify: (error) => dashscope.classify(error),
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
