/**
 * Gemini image models on Vertex AI (shared/providers/google-gemini-image.md): the response shape
 * as `@google/genai` hands it back, and the pure mappings — which aspect ratio fits the photo,
 * what `finishReason` / `promptFeedback` mean (policy blocks arrive as HTTP 200), and the Google
 * error body (where Vertex serves a location is in ../vertex.ts). No network and no SDK import here.
 */
import { z } from "zod";
import { classifyTransport, ProviderHttpError } from "../http.js";
import type { FinishedOutcome, ProviderError, ResultImage } from "../types.js";

export const NAME = "Google Gemini";

/**
 * Vertex ids. The `-preview` ids were discontinued (Vertex model page: migrate before 2026-07-17)
 * in favour of the GA `gemini-3-pro-image` ("best model for complex and multi-turn image
 * generation and editing") and `gemini-3.1-flash-image` (faster, cheaper).
 */
export const GEMINI_MODELS = ["gemini-3-pro-image", "gemini-3.1-flash-image"] as const;
export const DEFAULT_MODEL = "gemini-3-pro-image";

/** Inline data is limited to 7 MB per file (larger files only through gs://, up to 30 MB). */
export const MAX_INLINE_BYTES = 7_000_000;

const ASPECT_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"] as const;

/** The supported ratio nearest the photo's, so the edit keeps its framing (the model's default is 1:1). */
export function aspectRatioFor(width: number, height: number): string | undefined {
  if (!(width > 0 && height > 0)) return undefined;
  const target = Math.log(width / height);
  const distance = (r: string) => {
    const [w, h] = r.split(":").map(Number) as [number, number];
    return Math.abs(Math.log(w / h) - target);
  };
  return ASPECT_RATIOS.reduce((best, r) => (distance(r) < distance(best) ? r : best));
}

const partSchema = z
  .object({
    text: z.string().nullish(),
    thought: z.boolean().nullish(),
    inlineData: z.object({ mimeType: z.string().nullish(), data: z.string().nullish() }).passthrough().nullish(),
  })
  .passthrough();

export const responseSchema = z
  .object({
    candidates: z
      .array(
        z
          .object({
            content: z
              .object({ parts: z.array(partSchema).nullish() })
              .passthrough()
              .nullish(),
            finishReason: z.string().nullish(),
          })
          .passthrough(),
      )
      .nullish(),
    promptFeedback: z.object({ blockReason: z.string().nullish() }).passthrough().nullish(),
  })
  .passthrough();
export type GenerateResponse = z.infer<typeof responseSchema>;

/** finishReason values that mean the model declined under its safety or content policies. */
const POLICY_FINISH = new Set([
  "SAFETY",
  "PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
  "MODEL_ARMOR", // blocked by a Model Armor template on the project (Vertex only)
]);

const RESULT_MIMES: ReadonlySet<string> = new Set(["image/jpeg", "image/png", "image/webp"]);

/** Maps a generateContent answer (HTTP 200) onto an outcome: blocks first, then the image. */
export function outcomeOf(response: GenerateResponse, maxBytes: number): FinishedOutcome {
  const blocked = response.promptFeedback?.blockReason;
  if (blocked) return failed("policy_rejected", `${NAME} declined this photo or instruction under its content policy.`, blocked);
  const candidate = response.candidates?.[0];
  const finish = candidate?.finishReason ?? undefined;
  if (finish && POLICY_FINISH.has(finish)) return failed("policy_rejected", `${NAME} declined to return the edited image under its content policy.`, finish);
  // The per-request token limit cut generation short. We turn the SDK's automatic continuation off
  // (each hop is a billed request we would not bound), so the job reports it as transient.
  if (finish === "CONTINUATION") return failed("retryable", `${NAME} stopped before finishing the image; try again.`, finish);
  // Gemini 3 image models may send interim "thought" images before the final one.
  const image = candidate?.content?.parts?.filter((p) => !p.thought && p.inlineData?.data && p.inlineData.mimeType?.startsWith("image/")).at(-1)?.inlineData;
  if (!image?.data) {
    // NO_IMAGE, IMAGE_OTHER, or a text-only answer (the model explaining instead of editing).
    return failed("permanent", `${NAME} did not produce an image for this photo; try a different instruction.`, finish ?? "no-image");
  }
  if (Math.floor((image.data.length * 3) / 4) > maxBytes) return failed("permanent", `${NAME} returned a result larger than we accept.`, "result-too-large");
  const mime = (RESULT_MIMES.has(image.mimeType ?? "") ? image.mimeType : "image/png") as ResultImage["mime"];
  return { state: "succeeded", images: [{ bytes: Buffer.from(image.data, "base64"), mime, width: 0, height: 0 }] };
}

const failed = (kind: ProviderError["kind"], message: string, providerCode: string): FinishedOutcome => ({
  state: "failed",
  error: { kind, message, providerCode },
});

/** The SDK's ApiError carries the HTTP status and the error body as a JSON string in `message`. */
const googleErrorSchema = z.object({
  error: z
    .object({
      status: z.string().nullish(),
      details: z.array(z.object({ "@type": z.string().nullish(), reason: z.string().nullish(), retryDelay: z.string().nullish() }).passthrough()).nullish(),
    })
    .passthrough(),
});

/**
 * Body-level facts first (billing disabled is a 403 but means no quota; RetryInfo says how long to
 * wait), then the HTTP status. 429 RESOURCE_EXHAUSTED is shared-capacity throttling: retryable.
 */
export function errorForApiError(status: number, body: string): ProviderError {
  let error: z.infer<typeof googleErrorSchema>["error"] | undefined;
  try {
    error = googleErrorSchema.safeParse(JSON.parse(body)).data?.error;
  } catch {
    error = undefined;
  }
  const details = error?.details ?? [];
  const providerCode = error?.status ?? undefined;
  if (details.some((d) => d.reason === "BILLING_DISABLED")) {
    return { kind: "quota", message: `${NAME} has no billing or quota for this project.`, httpStatus: status, providerCode: "BILLING_DISABLED" };
  }
  const delay = details.map((d) => d.retryDelay).find(Boolean);
  const retryAfterMs = delay && /^\d+(\.\d+)?s$/.test(delay) ? Math.round(parseFloat(delay) * 1000) : undefined;
  return { ...classifyTransport(new ProviderHttpError(status, retryAfterMs, undefined), NAME), providerCode };
}
