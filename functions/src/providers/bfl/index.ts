/**
 * Black Forest Labs FLUX (FLUX.2, and FLUX.1 Kontext, which BFL now calls legacy): instruction
 * edits of the user's photo. Async: submit returns a `polling_url` we poll with the key; the
 * result is a delivery URL valid for 10 minutes, fetched at once without the key.
 */
import { providerBaseUrl } from "../baseUrl.js";
import { fetchResultImages } from "../download.js";
import { assertProviderHost, classifyTransport, providerJson } from "../http.js";
import { instructionFor } from "../prompts.js";
import type { AsyncImageProvider, JobRef, Outcome } from "../types.js";
import { outcomeOf, pollResponseSchema, submitResponseSchema } from "./api.js";

export const BFL_MODELS = ["flux-2-pro", "flux-2-max", "flux-2-flex", "flux-kontext-pro", "flux-kontext-max"] as const;
const NAME = "Black Forest Labs";

export interface BflOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createBflProvider(options: BflOptions): AsyncImageProvider {
  const baseUrl = options.baseUrl ?? providerBaseUrl("bfl", "https://api.bfl.ai");
  const apiHost = new URL(baseUrl).host;
  // The global endpoint hands out polling URLs on its regional clusters (api.us1.bfl.ai, ...).
  const isBflHost = (host: string) => host === apiHost || host === "bfl.ai" || host.endsWith(".bfl.ai");
  const headers = { "x-key": options.apiKey, "content-type": "application/json", accept: "application/json" };

  return {
    id: "bfl",
    models: {
      defaults: { edit: "flux-2-pro", style: "flux-2-pro", enhance: "flux-2-pro" },
      allowed: BFL_MODELS,
    },
    // BFL's own client starts at 1 s and backs off x1.5 to 5 s; results take seconds to a minute.
    polling: { startMs: 1_000, factor: 1.5, maxMs: 5_000, deadlineMs: 5 * 60_000 },

    async submit(req, signal): Promise<JobRef> {
      const body = {
        prompt: instructionFor(req),
        input_image: Buffer.from(req.image.bytes).toString("base64"),
        output_format: "jpeg",
        safety_tolerance: 2,
      };
      // Not idempotent: a retried submit could start (and bill) a second task.
      const task = await providerJson(
        { url: `${baseUrl}/v1/${req.model}`, method: "POST", headers, body: JSON.stringify(body), signal, timeoutMs: 60_000 },
        submitResponseSchema,
      );
      assertProviderHost(task.polling_url, isBflHost, NAME);
      return { provider: "bfl", id: task.id, pollUrl: task.polling_url, submittedAt: Date.now() };
    },

    async poll(job, signal): Promise<Outcome> {
      const url = assertProviderHost(job.pollUrl ?? `${baseUrl}/v1/get_result?id=${encodeURIComponent(job.id)}`, isBflHost, NAME);
      const poll = await providerJson({ url: url.href, headers, signal, timeoutMs: 30_000, idempotent: true }, pollResponseSchema);
      return outcomeOf(poll);
    },

    // The delivery host is not BFL's API: it gets no key.
    fetchResult: (outcome, signal) => fetchResultImages(outcome, NAME, { signal, fetch: options.fetch, mime: "image/jpeg" }),

    classify: (error) => classifyTransport(error, NAME),
  };
}
