/**
 * ByteDance Seedream / SeedEdit on Volcengine Ark and BytePlus ModelArk
 * (shared/providers/bytedance-seedream.md): hosts, model catalogues, response shapes and the one
 * mapping of Ark error codes onto our error kinds. No network here.
 */
import { z } from "zod";
import { sniffedResult } from "../download.js";
import type { FinishedOutcome, ProviderError } from "../types.js";
import { seedream } from "./descriptor.js";

export const NAME = "ByteDance Seedream";

/** Volcengine Ark, Beijing: `BASE_URL` of the official SDK. */
export const VOLCENGINE_BASE_URL = "https://ark.cn-beijing.volces.com/api/v3";

/** Volcengine ids, from the descriptor (their one home); the first is the default. */
const VOLCENGINE_MODELS = seedream.models.map((m) => m.id);

export interface Catalog {
  platform: "volcengine" | "byteplus";
  models: readonly string[];
  defaultModel: string;
}

/** BytePlus spells the same models without the `doubao-` prefix (e.g. `seedream-5-0-260128`). */
export const catalogFor = (baseUrl: string): Catalog => arkCatalog(baseUrl, VOLCENGINE_MODELS, (m) => m.replace(/^doubao-/, ""));

/** An Ark catalogue (Seedream, Seedance): Volcengine ids, renamed by `byteplusId` on a BytePlus host; the first is the default. */
export function arkCatalog(baseUrl: string, volcengineModels: readonly string[], byteplusId: (model: string) => string): Catalog {
  const byteplus = new URL(baseUrl).hostname.endsWith(".bytepluses.com");
  const models = byteplus ? volcengineModels.map(byteplusId) : [...volcengineModels];
  return { platform: byteplus ? "byteplus" : "volcengine", models, defaultModel: models[0]! };
}

/** SeedEdit 3.0 keeps the input's size with `adaptive`; Seedream 4.x/5.x all take the `2K` preset. */
export const sizeFor = (model: string) => (model.includes("seededit") ? "adaptive" : "2K");

/**
 * Input types per model, each at most 10 MB. Seedream 4.x/5.x take JPEG, PNG, WebP, BMP, TIFF and
 * GIF; SeedEdit 3.0 only JPEG or PNG. Of the types we accept (HEIC is converted to JPEG at ingest),
 * WebP therefore goes to Seedream as it is and is refused for SeedEdit.
 */
export const inputMimesFor = (model: string): readonly string[] =>
  model.includes("seededit") ? ["image/jpeg", "image/png"] : ["image/jpeg", "image/png", "image/webp"];
export const MAX_INPUT_BYTES = 10_000_000;

const errorBody = z.object({ code: z.string().optional() }).passthrough();

export const generationsResponseSchema = z
  .object({
    data: z.array(
      z
        .object({
          b64_json: z.string().min(1).nullish(),
          url: z.string().url().nullish(),
          // One image of a group can fail while the call answers 200.
          error: errorBody.nullish(),
        })
        .passthrough(),
    ),
    error: errorBody.nullish(),
  })
  .passthrough();

export type GenerationsResponse = z.infer<typeof generationsResponseSchema>;

/** The outcome of a synchronous generations call that answered 2xx. */
export function outcomeOf(response: GenerationsResponse): FinishedOutcome {
  const fault = response.error?.code ?? response.data.find((d) => d.error?.code)?.error?.code;
  const b64 = response.data.map((d) => d.b64_json).filter((v): v is string => Boolean(v));
  if (b64.length) return { state: "succeeded", images: b64.map((v) => sniffedResult(Buffer.from(v, "base64"))) };
  const urls = response.data.map((d) => d.url).filter((v): v is string => Boolean(v));
  if (urls.length) return { state: "succeeded", images: urls.map((url) => ({ url, mime: "image/jpeg" })) };
  if (fault)
    return { state: "failed", error: errorForCode(fault) ?? { kind: "permanent", message: `${NAME} could not process this photo.`, providerCode: fault } };
  return { state: "failed", error: { kind: "permanent", message: `${NAME} reported success without an image.`, providerCode: "no-result" } };
}

/**
 * Ark's codes that say more than the HTTP status (volcengine.com/docs/82379/1299023): moderation
 * (`InputTextSensitiveContentDetected`, `InputImageSensitiveContentDetected[.PrivacyInformation]`,
 * `OutputImageSensitiveContentDetected`, `SensitiveContentDetected[.SevereViolation|.Violence]`)
 * and an unpaid account. Anything else is classified by its HTTP status.
 */
export function errorForCode(code: string): ProviderError | undefined {
  if (code.includes("SensitiveContentDetected")) {
    const message = code.startsWith("Output")
      ? `${NAME} declined to return the generated image under its content policy.`
      : `${NAME} declined this photo or instruction under its content policy.`;
    return { kind: "policy_rejected", message, providerCode: code };
  }
  if (code === "AccountOverdueError" || code === "ServiceOverdue") {
    return { kind: "quota", message: `${NAME} has no credit or quota left.`, providerCode: code };
  }
  return undefined;
}

const errorEnvelope = z.object({ error: errorBody });

/** Reads `error.code` from a non-2xx body (OpenAI-like envelope); the message is discarded unread. */
export function errorCodeOf(body: unknown): string | undefined {
  const code = errorEnvelope.safeParse(body).data?.error.code;
  return code && /^[A-Za-z0-9_.-]{1,100}$/.test(code) ? code : undefined;
}
