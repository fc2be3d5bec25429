/**
 * The callable contract (ARCHITECTURE §3) as zod schemas, and the job status document (§4).
 * Every outside input goes through one of these before anything else happens.
 */
import { z } from "zod";
import { FEATURES } from "../domain/features.js";
import { JOB_STATUSES } from "../domain/jobStatus.js";

// Control characters (except tab and newline) have no place in a prompt and can smuggle
// terminal escapes or log-injection payloads.
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const id = () => z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a short lowercase id");

export const jobIdSchema = z.string().regex(/^[a-f0-9]{40}$/, "must be a job id returned by createJob");

export const consentSchema = z.strictObject({
  faceDataProcessing: z.literal(true),
  policyVersion: z.string().min(1).max(40),
});

export function createJobSchema(limits: { maxImageBytes: number; maxPromptChars: number }) {
  const maxBase64Chars = Math.ceil(limits.maxImageBytes / 3) * 4;
  return z.strictObject({
    requestId: z.uuid("must be a UUID"),
    feature: z.enum(FEATURES, "must be one of " + FEATURES.join(", ")),
    provider: id().optional(),
    model: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/, "must be a model id")
      .optional(),
    prompt: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(limits.maxPromptChars, `must be at most ${limits.maxPromptChars} characters`)
      .refine((p) => !CONTROL_CHARS.test(p), "must not contain control characters")
      .optional(),
    style: id().optional(),
    image: z.union(
      [
        z.strictObject({
          base64: z
            .string()
            .min(1, "is empty")
            .max(maxBase64Chars, `is larger than ${Math.floor(limits.maxImageBytes / 1e6)} MB`)
            .refine((s) => s.length % 4 === 0 && BASE64.test(s), "is not valid base64"),
          mimeType: z.string().max(100),
        }),
        z.strictObject({ uploadId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "is not an upload id") }),
      ],
      "must be { base64, mimeType } or { uploadId }",
    ),
    options: z
      .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,39}$/), z.union([z.string().max(200), z.number(), z.boolean()]))
      .refine((o) => Object.keys(o).length <= 20, "may hold at most 20 entries")
      .optional(),
    // Checked on its own (consentSchema) so that missing consent is failed-precondition, not a typo.
    consent: z.unknown(),
  });
}

export type CreateJobRequest = z.infer<ReturnType<typeof createJobSchema>>;

export const jobRefRequestSchema = z.strictObject({ jobId: jobIdSchema });

const timestamp = z.custom<FirebaseFirestore.Timestamp>(
  (v) => typeof v === "object" && v !== null && typeof (v as { toMillis?: unknown }).toMillis === "function",
  "a Firestore Timestamp",
);

/**
 * A provider's task id as the job may store it: an opaque id (§4), never a location a face could be
 * fetched from. Refused: any `scheme://` URL (gs, http(s), s3...), a data: URL, an absolute or
 * relative filesystem path, anything naming our transient area, whitespace or control characters,
 * and ids longer than 256. Resource names made of segments (Vertex operation names,
 * `projects/…/operations/…`) are ids, not locations, and pass.
 */
export function isOpaqueTaskId(id: string): boolean {
  return (
    id.length > 0 &&
    id.length <= 256 &&
    !/[a-z][a-z0-9+.-]*:\/\//i.test(id) &&
    !/^data:/i.test(id) &&
    !/^(?:\/|\.{1,2}\/|~|[a-z]:[\\/])/i.test(id) &&
    !id.includes("\\") &&
    !id.includes("transient/") &&
    !/[\s\u0000-\u001f\u007f]/.test(id)
  );
}

/** The job document holds status fields only (§4); strict, so a stray field is caught in tests. */
export const jobDocSchema = z.strictObject({
  uid: z.string(),
  requestId: z.string(),
  feature: z.enum(FEATURES),
  provider: z.string(),
  model: z.string(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().min(0).max(100).optional(),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
  startedAt: timestamp.optional(),
  finishedAt: timestamp.optional(),
  deadlineAt: timestamp,
  resultExpiresAt: timestamp.optional(),
  resultDeleted: z.boolean().optional(),
  inputDeleted: z.boolean(),
  providerTaskId: z.string().optional(),
  /** Providers that were down before `provider` served (automatic fallback), with their error code. */
  fallbacks: z
    .array(z.strictObject({ provider: z.string(), code: z.string() }))
    .max(20)
    .optional(),
  attempts: z.number().int().min(0),
  durationMs: z.number().min(0).optional(),
  /** Firestore TTL field: the document may go after this (JOB_RETENTION_DAYS; the purge deletes it first). */
  retainUntil: timestamp.optional(),
});

export type JobDoc = z.infer<typeof jobDocSchema>;
export const JOB_DOC_FIELDS = Object.keys(jobDocSchema.shape) as (keyof JobDoc)[];
