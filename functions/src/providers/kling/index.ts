/**
 * Kling AI image generation guided by the user's photo (`image_reference`: subject or face): a new
 * image of the same person, which fits style presets, not pixel-faithful edits. Async: submit
 * returns a task id we poll; the result is a CDN URL (kept 30 days) fetched at once without the
 * token. Auth is a short-lived JWT signed with the secret key, made fresh for every call.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../errors.js";
import { fetchResultImages } from "../download.js";
import { instructionFor } from "../prompts.js";
import type { AsyncImageProvider, ImageRequest, JobRef, Outcome } from "../types.js";
import { INPUT_LIMITS, NAME, nearestAspectRatio, outcomeOf, submitResponseSchema, taskResponseSchema } from "./api.js";
import { createKlingClient, type KlingClientOptions } from "./client.js";

/** Only kling-v1-5 documents face/subject reference; v2.x does plain image-to-image. */
export const KLING_MODELS = ["kling-v1-5"] as const;

export type KlingOptions = KlingClientOptions;

/** `options.imageReference`: "subject" (default: face, hair, clothes, body) or "face" (the face only). */
const referenceOption = z.enum(["subject", "face"]).default("subject");

export function createKlingProvider(options: KlingOptions): AsyncImageProvider {
  const kling = createKlingClient(options);

  return {
    id: "kling",
    models: {
      // Style only: a restyle re-renders the whole picture anyway, and subject reference keeps the
      // person. Edit, enhance and cutout promise the user's own photo back, which generation does not.
      defaults: { style: KLING_MODELS[0] },
      allowed: KLING_MODELS,
    },
    // Image tasks take seconds to a minute; Kling's partners poll every 3–5 s.
    polling: { startMs: 2_000, factor: 1.5, maxMs: 5_000, deadlineMs: 5 * 60_000 },

    async submit(req, signal): Promise<JobRef> {
      assertAcceptedImage(req.image);
      const reference = referenceOption.safeParse(req.options?.imageReference);
      if (!reference.success) throw new AppError("invalid-argument", "options.imageReference: must be subject or face", "option-invalid");
      const prompt = instructionFor(req);
      if (prompt.length > INPUT_LIMITS.maxPromptChars) {
        throw new AppError(
          "invalid-argument",
          `prompt: too long for ${NAME}; shorten it by ${prompt.length - INPUT_LIMITS.maxPromptChars} characters`,
          "prompt-too-long",
        );
      }
      const body = {
        model_name: req.model,
        prompt, // no negative_prompt: Kling ignores it when `image` is set
        image: Buffer.from(req.image.bytes).toString("base64"), // raw base64: Kling rejects a data: prefix
        image_reference: reference.data,
        // Likeness is our promise; only `subject` takes it (Kling's default is not documented).
        ...(reference.data === "subject" && { human_fidelity: 0.9 }),
        n: 1,
        aspect_ratio: nearestAspectRatio(req.image.width, req.image.height),
        // Kling's idempotency handle (unique per account). ImageRequest carries no job id to derive
        // it from, and a content hash would refuse a second job on the same photo: one per submit.
        external_task_id: req.jobId ?? randomUUID(),
      };
      // Not idempotent: a retry could start (and bill) a second task.
      const task = await kling.call(
        { url: `${kling.baseUrl}/v1/images/generations`, method: "POST", body: JSON.stringify(body), signal, timeoutMs: 60_000 },
        submitResponseSchema,
      );
      return { provider: "kling", id: task.task_id, submittedAt: Date.now() };
    },

    async poll(job, signal): Promise<Outcome> {
      return outcomeOf(await kling.read(`${kling.baseUrl}/v1/images/generations/${encodeURIComponent(job.id)}`, taskResponseSchema, signal));
    },

    // The CDN is not Kling's API: it gets no token.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: kling.fetch, mime: "image/png" }),

    classify: kling.classify,
  };
}

/** Refuses, before any upload, a photo Kling documents it cannot take (WebP/HEIC, < 300 px, > 10 MB, extreme aspect). */
function assertAcceptedImage(image: ImageRequest["image"]): void {
  const { mimes, maxBytes, minSide, maxAspect } = INPUT_LIMITS;
  const refuse = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");
  if (!mimes.includes(image.mime)) throw refuse(`${NAME} accepts JPEG or PNG photos only`);
  if (image.bytes.byteLength > maxBytes) throw refuse(`${NAME} accepts photos up to 10 MB`);
  if (Math.min(image.width, image.height) < minSide) throw refuse(`${NAME} needs at least ${minSide} pixels per side`);
  if (Math.max(image.width, image.height) / Math.min(image.width, image.height) > maxAspect) throw refuse(`${NAME} accepts aspect ratios up to ${maxAspect}:1`);
}
