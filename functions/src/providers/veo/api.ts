/**
 * Google Veo on Vertex AI (shared/providers/google-veo.md): the operation shape as `@google/genai`
 * hands it back, input limits, and the pure mappings — operation → VideoStatus (Veo has no status
 * enum: `done`, `error`, or videos / RAI-filtered counts) and Google error text → our kinds. Provider
 * text is read only to classify; it is never kept or shown. No network and no SDK import here.
 */
import { z } from "zod";
import type { ImageMime, ProviderError, VideoStatus } from "../types.js";

export const NAME = "Google Veo";

/**
 * GA ids on the Vertex Veo 3.1 model page (50 requests/min/project). Veo 2.0 / 3.0 retire on
 * 2026-06-30 and the `-preview` ids are gone, so they are not offered.
 */
export const VEO_MODELS = ["veo-3.1-generate-001", "veo-3.1-fast-generate-001"] as const;
export const DEFAULT_MODEL = "veo-3.1-generate-001";

/** Veo 3.x clip lengths; 8 s is Vertex's default and the only length for 1080p/reference modes. */
export const DURATIONS = [4, 6, 8] as const;
export const DEFAULT_DURATION = 8;

export const INPUT_LIMITS = {
  /** The request's `image.mimeType`: image/jpeg or image/png. */
  mimes: ["image/jpeg", "image/png"] as readonly ImageMime[],
  /** No Vertex figure found; gateways state 20 MB for inline images (google-veo.md §3, unconfirmed). */
  maxBytes: 20 * 1024 * 1024,
};

/** Veo outputs 16:9 or 9:16 only; square and portrait photos go portrait, which crops the sides, not the head. */
export const aspectRatioFor = (width: number, height: number) => (width > height ? "16:9" : "9:16");

/** A Vertex operation name (`providerTaskId`): the SDK derives the poll URL from it, so it must be one. */
export const OPERATION_NAME = /^projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/[^/]+\/operations\/[^/]+$/;

export const startResponseSchema = z.object({ name: z.string().regex(OPERATION_NAME) }).passthrough();

/** The SDK's GenerateVideosOperation after its Vertex converter (`videos` → `generatedVideos`, bytes as base64). */
export const operationSchema = z
  .object({
    name: z.string().optional(),
    done: z.boolean().nullish(),
    error: z.object({ code: z.number().nullish(), message: z.string().nullish() }).passthrough().nullish(),
    response: z
      .object({
        generatedVideos: z
          .array(
            z
              .object({
                video: z.object({ uri: z.string().nullish(), videoBytes: z.string().nullish(), mimeType: z.string().nullish() }).passthrough().nullish(),
              })
              .passthrough(),
          )
          .nullish(),
        raiMediaFilteredCount: z.number().nullish(),
        raiMediaFilteredReasons: z.array(z.string()).nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();
export type Operation = z.infer<typeof operationSchema>;

/** Maps one fetchPredictOperation answer onto a VideoStatus; `raw` describes the operation's state. */
export function statusOf(op: Operation): VideoStatus {
  if (!op.done) return { state: "running", raw: "done=false" };
  if (op.error) {
    const raw = `error:${op.error.code ?? "?"}`;
    return { state: "failed", error: errorForOperation(op.error.code ?? undefined, op.error.message ?? ""), raw };
  }
  const video = op.response?.generatedVideos?.find((v) => v.video?.uri || v.video?.videoBytes)?.video;
  if (video?.uri) {
    if (!video.uri.startsWith("gs://")) return failed("permanent", `${NAME} returned a result location we do not use.`, "unexpected-result-uri", "done=true");
    return { state: "succeeded", result: { gcsUri: video.uri }, raw: "done=true" };
  }
  if (video?.videoBytes) return { state: "succeeded", result: { bytes: Buffer.from(video.videoBytes, "base64") }, raw: "done=true" };
  // Done without a video: Responsible AI filters removed it (the reasons may carry support codes).
  if ((op.response?.raiMediaFilteredCount ?? 0) > 0 || op.response?.raiMediaFilteredReasons?.length) {
    const reasons = (op.response?.raiMediaFilteredReasons ?? []).join(" ");
    const error = errorForCode(policyCodeOf(reasons) ?? "RAI_OUTPUT_FILTERED")!;
    return { state: "failed", error, raw: "rai-filtered" };
  }
  return failed("permanent", `${NAME} finished without a video.`, "no-result", "done=true");
}

const failed = (kind: ProviderError["kind"], message: string, providerCode: string, raw: string): VideoStatus => ({
  state: "failed",
  error: { kind, message, providerCode },
  raw,
});

/**
 * Policy refusals are told apart by Google's wording only (there is no code for them):
 * - person generation not approved for the project (Vertex docs: "project needs to be approved for
 *   person or child generation"; reported 400 "allow_adult for personGeneration is currently not supported");
 * - safety-filter support codes (Veo Responsible AI page: 58061214/17301594 child, 29310472/15236754 celebrity);
 * - the generic "violates … usage guidelines" / "prompt couldn't be submitted" blocks.
 */
export function policyCodeOf(text: string): PolicyCode | undefined {
  if (/personGeneration|allow_adult|allow_all|person (or child )?generation|approved for person/i.test(text)) return "PERSON_GENERATION_NOT_ALLOWED";
  if (/\b(58061214|17301594)\b/.test(text)) return "RAI_CHILD";
  if (/\b(29310472|15236754)\b/.test(text)) return "RAI_CELEBRITY";
  if (/usage guidelines|support codes?:|violat|couldn'?t be submitted|could not be submitted|responsible ai|safety/i.test(text)) return "RAI_BLOCKED";
  return undefined;
}
type PolicyCode = "PERSON_GENERATION_NOT_ALLOWED" | "RAI_CHILD" | "RAI_CELEBRITY" | "RAI_BLOCKED";

/**
 * The one place Veo's codes become error kinds and our messages (HTTP errors through
 * classifyWithCode, and operation errors). Undefined when the HTTP status should decide.
 */
export function errorForCode(code: string): ProviderError | undefined {
  const error = (kind: ProviderError["kind"], message: string): ProviderError => ({ kind, message, providerCode: code });
  switch (code) {
    case "PERSON_GENERATION_NOT_ALLOWED":
      return error(
        "policy_rejected",
        `${NAME} is not yet allowed to animate photos of people for this Google Cloud project. An admin must ask Google (account team or Cloud support) to approve person generation ("allow_adult") for the project, or choose another video provider.`,
      );
    case "RAI_CHILD":
      return error("policy_rejected", `${NAME} does not animate photos that appear to show children.`);
    case "RAI_CELEBRITY":
      return error("policy_rejected", `${NAME} declined this photo because it appears to show a well-known person.`);
    case "RAI_BLOCKED":
      return error("policy_rejected", `${NAME} declined this photo or instruction under its content policy.`);
    case "RAI_OUTPUT_FILTERED":
      return error("policy_rejected", `${NAME} declined to return the generated video under its content policy.`);
    case "BILLING_DISABLED":
      return error("quota", `${NAME} has no billing or quota for this project.`);
    default:
      return undefined;
  }
}

/** A failed operation's google.rpc.Status: policy wording first, then the gRPC code. */
function errorForOperation(code: number | undefined, message: string): ProviderError {
  const policy = policyCodeOf(message);
  if (policy) return errorForCode(policy)!;
  const providerCode = `rpc-${code ?? "unknown"}`;
  // 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 10 ABORTED, 13 INTERNAL, 14 UNAVAILABLE: worth another try.
  if (code !== undefined && [4, 8, 10, 13, 14].includes(code))
    return { kind: "retryable", message: `${NAME} failed to generate the video; try again.`, providerCode };
  if (code === 7 || code === 16) return { kind: "permanent", message: `${NAME} refused our credentials.`, providerCode };
  return { kind: "permanent", message: `${NAME} could not make a video from this photo.`, providerCode };
}

const googleErrorSchema = z.object({
  error: z
    .object({
      status: z.string().nullish(),
      message: z.string().nullish(),
      details: z.array(z.object({ reason: z.string().nullish() }).passthrough()).nullish(),
    })
    .passthrough(),
});

/**
 * http.ts `errorCode` extractor for Google's error body `{ error: { code, message, status, details } }`:
 * a policy code read from the message, BILLING_DISABLED from ErrorInfo, else the canonical status.
 */
export function errorCodeOf(body: unknown): string | undefined {
  const error = googleErrorSchema.safeParse(body).data?.error;
  if (!error) return undefined;
  if (error.details?.some((d) => d.reason === "BILLING_DISABLED")) return "BILLING_DISABLED";
  return policyCodeOf(error.message ?? "") ?? error.status ?? undefined;
}
