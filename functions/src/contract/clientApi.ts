/**
 * The client contract in one place (ARCHITECTURE §3): each entry point with the zod schema that
 * parses its request (the real ones, from jobs/ and privacy/) and the one that describes its answer
 * (responses.ts), plus the words the schemas cannot carry. `npm run docs:api` renders it into
 * docs/CLIENT-API.md and docs/client-api.schema.json; `test/docs/clientApi.test.ts` fails when those
 * are stale or when a request field or job-document field has no words here.
 *
 * Imported by the docs script and tests only (never by index.ts), so it costs nothing at cold start.
 */
import { z } from "zod";
import { declaredParams } from "firebase-functions/params";
import { settings, type Settings } from "../config/params.js";
import { consentSchema, createJobSchema, jobDocSchema, jobRefRequestSchema } from "../jobs/schema.js";
import { setPrivacyChoicesRequestSchema } from "../privacy/choicesSchema.js";
import { deleteRequestSchema } from "../privacy/deleteData.js";
import { exportRequestSchema } from "../privacy/exportData.js";
import { FEATURES } from "../domain/features.js";
import { PROVIDER_IDS } from "../providers/catalog.js";
import { STYLE_PROMPTS } from "../providers/prompts.js";
import * as responses from "./responses.js";

/** A param's declared default (config/params.ts), whatever the environment says: the docs show defaults. */
export function declaredDefault(name: string): number {
  const param = declaredParams.find((p) => p.name === name);
  const value = param && (param.options as { default?: unknown }).default;
  if (typeof value !== "number") throw new Error(`no numeric default declared for ${name}`);
  return value;
}

/** Every setting at its declared default (`maxImageBytes` ← MAX_IMAGE_BYTES), so the docs do not depend on the environment. */
export const DEFAULT_SETTINGS = Object.fromEntries(
  Object.keys(settings()).map((key) => [key, declaredDefault(key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase())]),
) as Settings;

const mb = (bytes: number) => `${bytes / 1_000_000} MB`;
const list = (values: readonly string[]) => values.map((v) => `\`${v}\``).join(", ");

export interface EntryPoint {
  name: string;
  kind: "callable" | "http";
  summary: string;
  /** The schema the handler parses the request with; absent for uploadImage (multipart). */
  request?: z.ZodType;
  response: z.ZodType;
  /** Words for each request field, by path (`image.base64`); every field must have some. */
  fields?: Record<string, string>;
  notes?: string[];
}

export const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: "createJob",
    kind: "callable",
    summary: `Sends the photo to a provider. Image features answer with the result inline; \`video\` answers \`{ jobId, status: "running" }\` at once, then watch \`jobs/{jobId}\` and call getJobResult. The one call that costs money: call it with a limited-use App Check token, and a timeout of up to 540 s.`,
    // The handler checks consent on its own (a missing consent is failed-precondition, not a typo);
    // its shape is documented here as part of the request.
    request: createJobSchema(DEFAULT_SETTINGS).extend({ consent: consentSchema }),
    response: responses.createJobResponseSchema,
    fields: {
      requestId:
        "A UUID made by the client: the idempotency key. Retrying with the same one never creates a second job or provider call; it answers the first job's state. Make a new one for each new job.",
      feature: `What to do: ${list(FEATURES)}. \`edit\` follows the prompt; \`style\` applies a preset; \`cutout\` removes the background; \`enhance\` restores and upscales; \`video\` animates the photo.`,
      provider: `Optional; the default comes from the admins' config. Ids: ${list(PROVIDER_IDS)} (only those the admins enabled).`,
      model: "Optional; the provider's default otherwise (the message of `model-unknown` lists the allowed ones).",
      prompt: `For \`edit\` (required) and \`video\` (optional). At most MAX_PROMPT_CHARS (${DEFAULT_SETTINGS.maxPromptChars}) characters after trimming, no control characters. Never stored or logged.`,
      style: `For \`style\`: a preset id, e.g. ${list(Object.keys(STYLE_PROMPTS))} (the \`local\` provider has the first eight).`,
      image: "The photo: inline `{ base64, mimeType }`, or `{ uploadId }` from uploadImage (better for large photos).",
      "image.base64": `The image bytes in base64 (no \`data:\` prefix): up to MAX_IMAGE_BYTES (${mb(DEFAULT_SETTINGS.maxImageBytes)}) of image and MAX_IMAGE_PIXELS (${DEFAULT_SETTINGS.maxImagePixels / 1_000_000} megapixels). Must match \`mimeType\`.`,
      "image.mimeType":
        "`image/jpeg`, `image/png`, `image/webp`, `image/heic` or `image/heif` (HEIC/HEIF is converted to JPEG before any provider sees it). Metadata (EXIF with GPS, XMP, IPTC) is removed before the provider call.",
      "image.uploadId": "From uploadImage; the caller's own, used once (it is deleted as createJob reads it).",
      options: "A flat map of at most 20 provider options (string, number or boolean values), e.g. Kling's `imageReference`.",
      consent: "The user agreed to send this photo to the AI provider. Missing or false: `failed-precondition` (`consent-missing`).",
      "consent.faceDataProcessing": "Must be `true`.",
      "consent.policyVersion": "The version of the privacy policy the user agreed to, e.g. `2026-11`.",
    },
    notes: [
      'An image result is delivered once: a retry with the same `requestId` after success gets `status: "succeeded"` without `result` (send a new `requestId` to run again).',
      "Over a quota: `resource-exhausted` with `details.retryAfterSeconds`, and no job is created; retry with the same `requestId`.",
    ],
  },
  {
    name: "getJobResult",
    kind: "callable",
    summary:
      "The job's state; for a finished video, a short-lived download URL. `not-found` (`result-gone`) once no result is held: image results are returned inline by createJob and never held.",
    request: jobRefRequestSchema,
    response: responses.getJobResultResponseSchema,
    fields: { jobId: "From createJob." },
  },
  {
    name: "ackJobResult",
    kind: "callable",
    summary: "The client has the video: delete it now rather than at `deleteAt`. Idempotent.",
    request: jobRefRequestSchema,
    response: responses.ackJobResultResponseSchema,
    fields: { jobId: "From createJob." },
  },
  {
    name: "cancelJob",
    kind: "callable",
    summary:
      "Ends a job that is not finished as `cancelled`, stops it at the provider where the API allows, and deletes its inputs. A finished job keeps its state.",
    request: jobRefRequestSchema,
    response: responses.cancelJobResponseSchema,
    fields: { jobId: "From createJob." },
  },
  {
    name: "uploadImage",
    kind: "http",
    summary:
      "Streams one photo into short-lived storage for createJob (`image: { uploadId }`), without base64's third more bytes. A plain HTTPS endpoint, not a callable: see [uploadImage over HTTP](#uploadimage-over-http).",
    response: responses.uploadImageResponseSchema,
  },
  {
    name: "exportMyData",
    kind: "callable",
    summary: "The right to know: everything held about the caller, as JSON. Recorded as a privacy request.",
    request: exportRequestSchema,
    response: responses.exportMyDataResponseSchema,
    fields: {},
    notes: ["`data` keys: see [Where user data lives](#where-user-data-lives). Storage objects appear as metadata only."],
  },
  {
    name: "deleteMyData",
    kind: "callable",
    summary:
      "The right to delete: every job document, choice, counter and stored object of the caller, and the provider's copies of video tasks where the API allows. Idempotent. Recorded as a privacy request (the record is kept).",
    request: deleteRequestSchema,
    response: responses.deleteMyDataResponseSchema,
    fields: { deleteAccount: "Also delete the Firebase Auth account (last). The app should sign the user out afterwards." },
    notes: ["Deleting also resets the user's quota counters and privacy choices: an app that keeps the user should send the choices (or GPC) again."],
  },
  {
    name: "setPrivacyChoices",
    kind: "callable",
    summary:
      "The right to opt out of sale and sharing. `{}` reads the stored choices back. The owner can also read `privacy/{uid}` with Firestore to switch the app's own analytics off.",
    request: setPrivacyChoicesRequestSchema,
    response: responses.privacyChoicesResponseSchema,
    fields: {
      optOutOfSale: "Opt out of the sale of personal information (or `false` to opt back in).",
      optOutOfSharing: "Opt out of sharing for cross-context behavioural advertising (or `false` to opt back in).",
      gpc: "The device's Global Privacy Control setting; `true` opts out of both. A `Sec-GPC: 1` header on any call does the same.",
    },
    notes: [
      "The stored `gpc` is the truth about the last request that set anything: a request that sets a choice without the signal (no header, no `gpc: true`) stores `gpc: false`. An explicit opt-in sent without the signal is honoured (CCPA regulations §7025(c)(3): the user may confirm a setting that conflicts with the signal); the next request carrying the signal opts out of both again. `{}` without the signal only reads.",
    ],
  },
];

/** Words for every field of `jobs/{jobId}`, which the owner may read (and listen to) with Firestore. */
export const JOB_DOC_FIELDS_DOC: Record<keyof z.infer<typeof jobDocSchema>, string> = {
  uid: "The owner.",
  requestId: "The client's idempotency key.",
  feature: "As requested.",
  provider: "The provider that serves (after any automatic fallback).",
  model: "The model that serves.",
  status: "`queued` → `running` → `succeeded` | `failed` | `cancelled` | `expired`. Stop listening at the last four.",
  progress: "0–100, for video where the provider reports it.",
  error: "`{ code, message }` when `failed` or `expired` (`code` is an error reason, `deadline-exceeded` or `internal`).",
  createdAt: "Timestamp.",
  updatedAt: "Timestamp of the last change.",
  startedAt: "Timestamp: when the provider got the job.",
  finishedAt: "Timestamp: when it ended.",
  deadlineAt: "Timestamp: an unfinished job is expired after this.",
  resultExpiresAt: "Timestamp: a held video is deleted at this time unless acknowledged sooner.",
  resultDeleted: "`false` while a video is held; `true` once it is gone.",
  inputDeleted: "No copy of the photo is left on our side.",
  providerTaskId: "An opaque id of the provider's task (video): never a URL or a path.",
  fallbacks: "`[{ provider, code }]`: providers that were down before `provider` served.",
  attempts: "Provider polls so far (video).",
  durationMs: "How long the job took, once ended.",
  retainUntil: "Timestamp: the status document is deleted by then (JOB_RETENTION_DAYS).",
};

/** JSON Schema of every request and answer, under `$defs` named `<entry point>.request` / `.response`. */
export function clientApiJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const toJson = (schema: z.ZodType, io: "input" | "output") => {
    const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
    return json;
  };
  for (const entry of ENTRY_POINTS) {
    if (entry.request) defs[`${entry.name}.request`] = withFieldDescriptions(toJson(entry.request, "input"), entry.fields ?? {});
    defs[`${entry.name}.response`] = toJson(entry.response, "output");
  }
  defs.jobReceipt = toJson(responses.jobReceiptSchema, "output");
  defs["uploadImage.error"] = toJson(responses.uploadImageErrorSchema, "output");
  defs["callableError.details"] = toJson(responses.callableErrorDetailsSchema, "output");
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Photo Fixer client API",
    description:
      "Requests and responses of the Photo Fixer callables and uploadImage. Generated by `npm run docs:api` from functions/src/contract/ (the request schemas are the ones the functions parse with); do not edit.",
    $defs: defs,
  };
}

/** Puts each field's words into the JSON Schema, following objects, `anyOf` alternatives and nullable wrappers. */
function withFieldDescriptions(schema: Record<string, unknown>, fields: Record<string, string>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = { ...schema };
  if (Array.isArray(schema.anyOf)) out.anyOf = schema.anyOf.map((alt) => withFieldDescriptions(alt as Record<string, unknown>, fields, prefix));
  if (schema.properties && typeof schema.properties === "object") {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Record<string, unknown>>).map(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        const described = fields[path] ? { description: fields[path], ...value } : value;
        return [key, withFieldDescriptions(described, fields, path)];
      }),
    );
  }
  return out;
}
