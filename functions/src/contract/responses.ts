/**
 * What each entry point answers, as zod schemas: the response half of the client contract
 * (ARCHITECTURE §3), for the generated client docs (`npm run docs:api`) and their JSON Schema.
 * The handlers declare their answers as TypeScript types; `test/docs/clientApi.test.ts` fails to
 * type-check when a schema here and the handler's type disagree (a field added, dropped or made
 * optional on one side), so the docs follow the code. Nothing at runtime imports this module.
 */
import { z } from "zod";
import { jobIdSchema } from "../jobs/schema.js";
import { JOB_STATUSES } from "../domain/jobStatus.js";
import { DATA_CATEGORIES, type DataCategory } from "../privacy/paths.js";

const isoTime = (what: string) => z.string().describe(`${what} (ISO 8601)`);
const jobId = jobIdSchema.describe("The job's id: a hash of the caller's uid and `requestId`");
const status = z.enum(JOB_STATUSES).describe("`queued` → `running` → `succeeded` | `failed` | `cancelled` | `expired`; the last four never change");

export const jobErrorSchema = z
  .strictObject({
    code: z.string().describe("Why the job failed: one of the error reasons below, `deadline-exceeded` for an expired job, or `internal`"),
    message: z.string().describe("For people; never quotes the prompt or the photo"),
  })
  .describe("Why a job ended `failed` or `expired`");

/** The privacy receipt of a job (jobs/receipt.ts). */
export const jobReceiptSchema = z
  .strictObject({
    provider: z.string().describe("The provider that received the photo (its id)"),
    providerName: z.string().describe("Its name as users see it"),
    model: z.string().describe("The model that served the job"),
    providerRetention: z.string().describe("What that provider says it keeps, in words"),
    fallbacks: z
      .array(z.strictObject({ provider: z.string(), code: z.string() }))
      .optional()
      .describe("Providers tried first that were down or over quota (automatic fallback): they may have received the photo too"),
    inputDeleted: z.boolean().describe("No copy of the photo is left on our side"),
    inputDeletedAt: isoTime("When the job recorded the photo gone").optional(),
    resultDeleted: z.boolean().describe("No copy of the result is held on our side (image results are returned inline and never stored)"),
    resultHeldUntil: isoTime("While a video is held: deleted on ackJobResult or at this time, whichever comes first").optional(),
    statusKeptUntil: isoTime("The job's status document (no face data) is deleted by this time").optional(),
  })
  .describe("Privacy receipt: who received the photo, when our copies went, when the result goes");

export const createJobResponseSchema = z.strictObject({
  jobId,
  status,
  result: z
    .strictObject({
      mimeType: z.string().describe("`image/jpeg`, `image/png` or `image/webp`"),
      base64: z.string().describe("The image, base64-encoded"),
      width: z.number().describe("Pixels"),
      height: z.number().describe("Pixels"),
    })
    .optional()
    .describe("Image features, first delivery only: a retried `requestId` gets the status without the result"),
  error: jobErrorSchema.optional().describe("A retried `requestId` whose job failed: why"),
  receipt: jobReceiptSchema.optional().describe("With an image result, and on a retried `requestId`"),
});

const notSucceeded = JOB_STATUSES.filter((s): s is Exclude<(typeof JOB_STATUSES)[number], "succeeded"> => s !== "succeeded");

export const getJobResultResponseSchema = z.union([
  z
    .strictObject({
      jobId,
      status: z.enum(notSucceeded).describe("Not finished, or ended without a result"),
      progress: z.number().min(0).max(100).optional().describe("Percent, where the provider reports it"),
      error: jobErrorSchema.optional(),
      receipt: jobReceiptSchema,
    })
    .describe("While the job is not `succeeded`"),
  z
    .strictObject({
      jobId,
      status: z.literal("succeeded"),
      result: z.strictObject({
        mimeType: z.string().describe("`video/mp4`"),
        url: z.string().describe("A short-lived download URL (a V4 signed URL); no Authorization header needed"),
        urlExpiresAt: isoTime("When the URL stops working (RESULT_URL_MINUTES); call getJobResult again for a new one"),
        deleteAt: isoTime("When the video is deleted if not acknowledged (RESULT_TTL_MINUTES after it was stored)"),
      }),
      receipt: jobReceiptSchema,
    })
    .describe("While a video result is held"),
]);

export const ackJobResultResponseSchema = z.strictObject({
  jobId,
  deleted: z.literal(true).describe("Any held result is gone (also when there was none: idempotent)"),
});

export const cancelJobResponseSchema = z.strictObject({
  jobId,
  status: status.describe("`cancelled`, or the terminal state the job had already reached (it keeps it)"),
});

export const uploadImageResponseSchema = z.strictObject({
  uploadId: z.string().describe("Pass it to createJob as `image: { uploadId }`; it can be used once"),
  expiresAt: isoTime("After this the upload is purged and createJob answers `not-found` (UPLOAD_TTL_MINUTES)"),
});

export const uploadImageErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.string().describe("An HttpsError code (see the error codes)"),
    message: z.string().describe("For people; never quotes the file"),
    reason: z.string().describe("A stable machine-readable reason (see the error reasons)"),
  }),
});

const categoryIds = Object.keys(DATA_CATEGORIES) as [DataCategory, ...DataCategory[]];

export const exportMyDataResponseSchema = z.strictObject({
  exportedAt: isoTime("When the export was made"),
  uid: z.string().describe("The caller's Firebase Auth uid"),
  categories: z
    .array(
      z.strictObject({
        category: z.enum(categoryIds),
        description: z.string().describe("What the category holds, in words"),
        held: z.boolean().describe("Whether any of it is held about the caller now"),
      }),
    )
    .describe("Every category of data the backend holds about users"),
  data: z
    .record(
      z.string(),
      z.strictObject({
        category: z.enum(categoryIds),
        retention: z.string().describe("How long it is kept, in words"),
        onDelete: z.string().describe("What deleteMyData does with it"),
        items: z
          .array(z.record(z.string(), z.unknown()))
          .describe(
            "Documents as JSON (Timestamps as ISO 8601), or Storage objects as metadata only: name, kind, jobId, contentType, size, createdAt, deleteAt; never bytes or URLs",
          ),
      }),
    )
    .describe("One entry per place that holds user data, keyed by its id (see below)"),
  providers: z
    .array(
      z.strictObject({
        id: z.string(),
        name: z.string(),
        serves: z.array(z.enum(["images", "video"])),
        enabledNow: z.boolean().describe("Whether admins have it switched on now"),
        retention: z.string().describe("What the provider says it keeps"),
        source: z.array(z.string()).describe("Where that statement comes from"),
      }),
    )
    .describe("Every provider a face may go to (the privacy policy's list)"),
});

export const deleteMyDataResponseSchema = z.strictObject({
  deleted: z
    .record(z.string(), z.number())
    .describe("How many documents or objects were deleted, per place (the same ids as the export's `data`; 0 for kept ones)"),
  kept: z.array(z.strictObject({ id: z.string(), reason: z.string() })).describe("Places deliberately kept, with the reason (records of privacy requests)"),
  providerCopies: z
    .strictObject({
      deleted: z.number().describe("Provider tasks cancelled or deleted through the provider's API"),
      notPossible: z.number().describe("Tasks at providers whose API offers no deletion: their stated retention applies"),
      failed: z.number().describe("Deletion was asked for but failed; the provider's stated retention applies"),
    })
    .describe("Copies of video tasks at the providers"),
  accountDeleted: z.boolean().describe("Whether this call deleted the Firebase Auth account"),
});

export const privacyChoicesResponseSchema = z.strictObject({
  optOutOfSale: z.boolean(),
  optOutOfSharing: z.boolean(),
  gpc: z
    .boolean()
    .describe(
      "The last request that set anything (a choice, `gpc`, or `Sec-GPC: 1` on any call) carried a Global Privacy Control signal; a choice sent without the signal stores `false`",
    ),
  updatedAt: isoTime("Absent while nothing was ever stored (no opt-out)").optional(),
});

/** `details` of an HttpsError from a callable (triggers/https/callable.ts). */
export const callableErrorDetailsSchema = z
  .strictObject({
    reason: z.string().optional().describe("A stable machine-readable reason (see the error reasons); absent for sign-in and App Check refusals"),
    retryAfterSeconds: z.number().optional().describe("`resource-exhausted`: when to try again, where known"),
    retryAt: isoTime("`resource-exhausted` (the user's quota): the same moment as a time").optional(),
    correlationId: z.string().optional().describe("`internal`: the reference also written to the log"),
  })
  .describe("`details` of the HttpsError");
