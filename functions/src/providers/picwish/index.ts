/**
 * PicWish: background removal, face cutout, photo enhancement and colorization of the user's
 * photo. We ask for the synchronous mode (`sync=1`), so most tasks answer with the result at once;
 * a task still queued or processing when the answer comes is polled by its task id. Results are
 * delivery URLs valid for 1 hour, fetched at once without the key.
 */
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { fetchResultImages } from "../download.js";
import { assertProviderHost, classifyTransport, providerJson } from "../http.js";
import { ProviderFailure, type AsyncImageProvider, type JobRef, type Outcome } from "../types.js";
import { NAME, outcomeOf, PICWISH_MODELS, taskResponseSchema, typedResult, uploadName, type PicWishModel, type PicWishModelId } from "./api.js";

export { PICWISH_MODELS } from "./api.js";

export interface PicWishOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createPicWishProvider(options: PicWishOptions): AsyncImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("picwish", "https://techsz.aoscdn.com");
  const apiHost = new URL(baseUrl).host;
  const isApiHost = (host: string) => host === apiHost;
  const headers = { "X-API-KEY": options.apiKey, accept: "application/json" };
  const taskUrl = (operation: string, taskId?: string) => `${baseUrl}/api/tasks/visual/${operation}${taskId ? `/${encodeURIComponent(taskId)}` : ""}`;

  return {
    id: "picwish",
    models: {
      defaults: { cutout: "cutout-auto", enhance: "enhance-face" },
      allowed: Object.keys(PICWISH_MODELS),
    },
    // Only tasks the sync answer left unfinished are polled. Processing is capped at 30 s by
    // PicWish (state -8); the deadline leaves room for its queue (state 0).
    polling: { startMs: 1_000, factor: 1.5, maxMs: 5_000, deadlineMs: 3 * 60_000 },

    async submit(req, signal): Promise<JobRef | Outcome> {
      const model: PicWishModel | undefined = Object.hasOwn(PICWISH_MODELS, req.model) ? PICWISH_MODELS[req.model as PicWishModelId] : undefined;
      if (!model || model.feature !== req.feature) {
        throw new AppError("invalid-argument", `model: ${req.model} does not serve ${req.feature} at ${NAME}`, "model-unsupported");
      }
      const filename = uploadName(req.image.mime);
      if (!filename) throw unsupportedInput("PicWish accepts JPEG, PNG or WebP photos only.");
      const maxSide = model.maxSide ?? Infinity;
      if (req.image.bytes.length > model.maxInputBytes || req.image.width > maxSide || req.image.height > maxSide) {
        throw unsupportedInput("This photo is larger than PicWish accepts.");
      }

      const form = new FormData();
      form.append("image_file", new Blob([new Uint8Array(req.image.bytes)], { type: req.image.mime }), filename);
      form.append("sync", "1");
      form.append("return_type", "1"); // a URL: streamed with a byte cap, unlike a base64 body
      for (const [name, value] of Object.entries(model.fields)) form.append(name, value);

      // Not idempotent: a retried upload could start (and bill) a second task.
      const res = await providerJson(
        { url: taskUrl(model.operation), method: "POST", headers, body: form, signal, timeoutMs: 90_000, fetch: options.fetch },
        taskResponseSchema,
      );
      const outcome = outcomeOf(res, model.operation);
      if (outcome.state !== "running") return outcome;
      const taskId = res.data?.task_id;
      if (!taskId)
        throw new ProviderFailure({ kind: "retryable", message: "The provider sent a response we could not read.", providerCode: "malformed-response" });
      return { provider: "picwish", id: taskId, pollUrl: taskUrl(model.operation, taskId), submittedAt: Date.now() };
    },

    async poll(job, signal): Promise<Outcome> {
      if (!job.pollUrl) throw new ProviderFailure({ kind: "permanent", message: `${NAME} no longer knows this task.`, providerCode: "no-poll-url" });
      // The key goes only to PicWish's API host, even for a stored job.
      const url = assertProviderHost(job.pollUrl, isApiHost, NAME);
      const operation = url.pathname.split("/").at(-2) ?? "";
      const res = await providerJson({ url: url.href, headers, signal, timeoutMs: 30_000, idempotent: true, fetch: options.fetch }, taskResponseSchema);
      return outcomeOf(res, operation);
    },

    // The delivery host (Aliyun OSS) is not PicWish's API: it gets no key. typedResult checks a
    // cutout's transparency against the mime the outcome declared.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: options.fetch, mime: typedResult }),

    classify: (error) => classifyTransport(error, NAME),
  };
}

const unsupportedInput = (message: string) => new ProviderFailure({ kind: "permanent", message, providerCode: "unsupported-input" });
