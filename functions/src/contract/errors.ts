/**
 * The errors clients can rely on (ARCHITECTURE §3): the codes, and every `details.reason` with what
 * it means. Documented here once, for the generated client docs (`npm run docs:api`);
 * `test/docs/clientApi.test.ts` finds every reason the code can give (each `new AppError(…)` and
 * uploadImage rejection) and fails if one is missing here, carries another code or HTTP status, or
 * is listed here but given nowhere.
 */
import type { ErrorCode } from "../errors.js";

export interface ErrorCodeDoc {
  code: ErrorCode;
  /** The HTTP status of the callable protocol (and of uploadImage's answers). */
  httpStatus: number;
  when: string;
  /** What a client should do. */
  clientAction: string;
}

export const ERROR_CODES: readonly ErrorCodeDoc[] = [
  {
    code: "unauthenticated",
    httpStatus: 401,
    when: "No Firebase Auth (or, for uploadImage, a missing or invalid ID token); the account was deleted or disabled, or the sign-in revoked (`details.reason`)",
    clientAction: "Sign in (anonymous sign-in is enough), then retry",
  },
  {
    code: "permission-denied",
    httpStatus: 403,
    when: "App Check failed or its token was already used (createJob); another user's job",
    clientAction: "Do not retry as is: get a fresh (limited-use) App Check token; never share job ids between users",
  },
  {
    code: "invalid-argument",
    httpStatus: 400,
    when: "A malformed request or photo; an unknown feature, provider, model or style; a prompt too long or not understood",
    clientAction: "Fix the request (the message names the field); retrying unchanged fails again",
  },
  {
    code: "failed-precondition",
    httpStatus: 400,
    when: "No consent; the provider is disabled, not configured, refused the photo (policy) or cannot do it",
    clientAction: "Show the message; ask for consent, or let the user pick another provider or photo",
  },
  {
    code: "not-found",
    httpStatus: 404,
    when: "No such job; the result is no longer held; the upload is gone",
    clientAction: "Start again (a new `requestId`, a new upload)",
  },
  {
    code: "resource-exhausted",
    httpStatus: 429,
    when: "The user's quota, or the provider's own quota",
    clientAction: "Wait `details.retryAfterSeconds` (when present), then retry with the same `requestId`",
  },
  {
    code: "deadline-exceeded",
    httpStatus: 504,
    when: "The provider did not finish before the job's deadline",
    clientAction: "Retry later with a new `requestId`",
  },
  {
    code: "unavailable",
    httpStatus: 503,
    when: "The provider is down after retries; the administrators paused the service; the instance is busy (`instance-busy`); our storage is briefly unreachable (`backend-unavailable`); the account could not be checked; the user's data is being deleted",
    clientAction:
      "Retry later with backoff (a new `requestId` once the old job has failed; the same one after `instance-busy` or `deletion-in-progress`, which create no job)",
  },
  {
    code: "internal",
    httpStatus: 500,
    when: "A bug: the message carries a reference id that is also in the log",
    clientAction: "Report the reference; retrying may work",
  },
];

/** Where a reason comes from, to group the table. */
export type ReasonGroup = "request" | "account" | "image" | "routing" | "provider" | "quota" | "job" | "upload";

export const REASON_GROUPS: Record<ReasonGroup, string> = {
  request: "Any callable: the request itself",
  account:
    "Every callable and uploadImage: the caller's account, checked with Firebase Auth before anything is written (an ID token outlives its account by up to an hour)",
  image: "The photo (createJob, and uploadImage where an HTTP status is given)",
  routing: "createJob: choosing the provider and model",
  provider: "createJob: what the provider said or could not do (also a failed job's `error.code`)",
  quota: "createJob: the user's limits",
  job: "getJobResult, ackJobResult, cancelJob (and createJob's `uploadId`)",
  upload: "uploadImage only (HTTP)",
};

export interface ReasonDoc {
  group: ReasonGroup;
  /** The codes this reason comes with (one, except where noted). */
  codes: readonly ErrorCode[];
  /** uploadImage's HTTP status, for reasons uploadImage gives. */
  uploadStatus?: number;
  meaning: string;
}

export const REASONS: Readonly<Record<string, ReasonDoc>> = {
  "request-invalid": {
    group: "request",
    codes: ["invalid-argument"],
    meaning: "A field is missing, extra, of the wrong type or out of range; the message names it",
  },
  "request-malformed": {
    group: "request",
    codes: ["invalid-argument"],
    meaning:
      "The callable request itself is malformed (not JSON, not `{ data }`, nested deeper than 64 levels, or an `@type` value other than the Int64/UInt64 form); the Firebase client SDKs never send one",
  },
  "id-token-malformed": {
    group: "request",
    codes: ["unauthenticated"],
    meaning:
      "The `Authorization: Bearer` token is not an ID token this project issued (not a JWT, or its algorithm, audience or issuer is wrong); a Firebase client SDK signed in to this project never sends one",
  },
  "app-check-malformed": {
    group: "request",
    codes: ["permission-denied"],
    meaning: "The `X-Firebase-AppCheck` token is not an App Check token for this project (not a JWT, or its algorithm or audience is wrong)",
  },
  "consent-missing": { group: "request", codes: ["failed-precondition"], meaning: "createJob without `consent: { faceDataProcessing: true, policyVersion }`" },

  "account-deleted": {
    group: "account",
    codes: ["unauthenticated"],
    uploadStatus: 401,
    meaning:
      "The account was deleted (deleteMyData with `deleteAccount: true`, the console, the Auth API); its ID token is refused. After deleteMyData({ deleteAccount: true }) this is the expected answer to a retry: the deletion happened. Sign out; signing in again starts a new account",
  },
  "account-disabled": { group: "account", codes: ["unauthenticated"], uploadStatus: 401, meaning: "The administrators disabled the account" },
  "token-revoked": {
    group: "account",
    codes: ["unauthenticated"],
    uploadStatus: 401,
    meaning: "The sign-in was revoked after this ID token was issued: sign in again",
  },
  "account-check-unavailable": {
    group: "account",
    codes: ["unavailable"],
    uploadStatus: 503,
    meaning: "Firebase Auth could not be asked about the account; nothing was done. Retry with backoff",
  },

  "image-empty": { group: "image", codes: ["invalid-argument"], uploadStatus: 400, meaning: "The photo has no bytes" },
  "image-too-large": { group: "image", codes: ["invalid-argument"], uploadStatus: 413, meaning: "More bytes than MAX_IMAGE_BYTES (15 MB by default)" },
  "image-too-many-pixels": {
    group: "image",
    codes: ["invalid-argument"],
    meaning: "More pixels than MAX_IMAGE_PIXELS (40 megapixels by default), or than the provider can take",
  },
  "image-unsupported-type": {
    group: "image",
    codes: ["invalid-argument"],
    uploadStatus: 415,
    meaning: "An image type we do not accept (accepted: JPEG, PNG, WebP, HEIC/HEIF coded with HEVC)",
  },
  "image-not-an-image": { group: "image", codes: ["invalid-argument"], uploadStatus: 415, meaning: "The bytes are not an image" },
  "image-type-mismatch": {
    group: "image",
    codes: ["invalid-argument"],
    uploadStatus: 400,
    meaning: "The declared type (`mimeType`, or the part's Content-Type) contradicts the bytes",
  },
  "image-dimensions-unreadable": { group: "image", codes: ["invalid-argument"], meaning: "The image header gives no dimensions" },
  "image-truncated": {
    group: "image",
    codes: ["invalid-argument"],
    meaning: "The image is cut off or corrupt (an incomplete upload), or far smaller than its claimed size",
  },
  "image-undecodable": {
    group: "image",
    codes: ["invalid-argument"],
    meaning: "The image cannot be decoded (a corrupt HEIC/HEIF, or a raster the local provider cannot read)",
  },
  "image-unreadable": { group: "image", codes: ["invalid-argument"], meaning: "The image's structure cannot be parsed to remove its metadata" },
  "image-missing": { group: "image", codes: ["invalid-argument"], meaning: "The local video provider got no photo" },
  "image-unsupported-by-provider": {
    group: "image",
    codes: ["invalid-argument"],
    meaning: "The chosen provider cannot take this photo (type, size or sides); the message says its limits",
  },
  "provider-image-too-large": {
    group: "image",
    codes: ["invalid-argument"],
    meaning: "Larger than the chosen provider accepts (Gemini: 7 MB inline; OpenAI: 50 MB)",
  },
  "provider-image-type-unsupported": { group: "image", codes: ["failed-precondition"], meaning: "The chosen provider does not take this image type" },

  "feature-not-offered": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "The provider does not offer this feature; the message lists the ones that do",
  },
  "feature-unsupported": { group: "routing", codes: ["invalid-argument"], meaning: "The local provider does not serve this feature" },
  "provider-unknown": { group: "routing", codes: ["invalid-argument"], meaning: "No such provider; the message lists the available ones" },
  "provider-disabled": { group: "routing", codes: ["failed-precondition"], meaning: "The administrators have switched this provider off" },
  "provider-not-configured": {
    group: "routing",
    codes: ["failed-precondition"],
    meaning: "The provider has no credentials on this server, or no enabled provider offers the feature",
  },
  "model-unknown": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "The model is not available for this provider; the message lists the ones that are",
  },
  "model-retired": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "The provider has shut this model down; the message gives the date and the model to use instead",
  },
  "model-unsupported": { group: "routing", codes: ["invalid-argument"], meaning: "The model does not serve this feature" },
  "model-feature-unsupported": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "The model cannot do what the feature needs (e.g. a transparent cutout)",
  },
  "style-unknown": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "No such style preset (or none given for `style`); the message lists the presets",
  },
  "prompt-missing": { group: "routing", codes: ["invalid-argument"], meaning: "`edit` needs a prompt" },
  "prompt-too-long": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "The instruction is longer than the provider accepts; the message says by how much",
  },
  "prompt-not-understood": {
    group: "routing",
    codes: ["invalid-argument"],
    meaning: "The local provider understands only a few edit keywords; the message lists them",
  },
  "option-invalid": { group: "routing", codes: ["invalid-argument"], meaning: "An `options` value the provider does not accept; the message names it" },
  "service-paused": { group: "routing", codes: ["unavailable"], meaning: "The administrators paused new jobs (kill switch)" },

  "provider-unavailable": {
    group: "provider",
    codes: ["unavailable", "failed-precondition"],
    meaning: "`unavailable`: the provider is down after retries. `failed-precondition`: a Vertex AI provider (Gemini, Veo) is not set up on this server",
  },
  "provider-busy": {
    group: "provider",
    codes: ["unavailable"],
    meaning:
      "Image features: this provider is at the cap the administrators set for it (`config/runtime` `providerLimits`) and no slot freed within 20 s; nothing was sent. Retry after `details.retryAfterSeconds` with a new `requestId`. (A video job over the cap is not refused: it stays `queued` until a slot frees.)",
  },
  "provider-quota": {
    group: "provider",
    codes: ["resource-exhausted"],
    meaning: "The provider's own quota; `details.retryAfterSeconds` where the provider says",
  },
  "provider-policy-rejected": {
    group: "provider",
    codes: ["failed-precondition"],
    meaning: "The provider refused the photo or prompt under its content policy",
  },
  "provider-rejected": {
    group: "provider",
    codes: ["failed-precondition"],
    meaning: "The provider refused the request for another reason (e.g. an input it cannot use)",
  },
  "provider-deadline": { group: "provider", codes: ["deadline-exceeded"], meaning: "The provider did not finish before the job's deadline" },
  "local-cutout-unsupported": {
    group: "provider",
    codes: ["failed-precondition"],
    meaning: "The local provider cuts out plain backgrounds only; choose another provider",
  },
  "local-heic-unsupported": { group: "provider", codes: ["failed-precondition"], meaning: "The local provider cannot decode this HEIC/HEIF" },
  "local-result-invalid": { group: "provider", codes: ["internal"], meaning: "A bug: the local provider produced no image" },

  "instance-busy": {
    group: "quota",
    codes: ["unavailable"],
    uploadStatus: 503,
    meaning:
      "The server instance that took the request had no memory to spare within `ADMISSION_WAIT_MS` (a burst of large photos); nothing was created or counted and an upload is kept. Retry after `details.retryAfterSeconds` (uploadImage: also `Retry-After`) with the same `requestId`",
  },
  "backend-unavailable": {
    group: "request",
    codes: ["unavailable"],
    uploadStatus: 503,
    meaning:
      "Our own storage (Firestore or Cloud Storage) was briefly unreachable while the request ran; a job it started ends `failed` or `expired` with its inputs deleted. Retry after `details.retryAfterSeconds` (uploadImage: also `Retry-After`); createJob with a new `requestId`",
  },
  "quota-hourly": {
    group: "quota",
    codes: ["resource-exhausted"],
    meaning: "The user's jobs per hour for this feature; `details.retryAfterSeconds` and `details.retryAt` say when",
  },
  "quota-daily": {
    group: "quota",
    codes: ["resource-exhausted"],
    meaning: "The user's jobs per day for this feature; `details.retryAfterSeconds` and `details.retryAt` say when",
  },
  "deletion-in-progress": {
    group: "quota",
    codes: ["unavailable"],
    meaning: "The user's deleteMyData (or account deletion) is running: no new job until it ends. Retry in a few seconds with the same `requestId`",
  },
  "quota-concurrent": {
    group: "quota",
    codes: ["resource-exhausted"],
    meaning: "Too many of the user's jobs are queued or running; `details.retryAfterSeconds` and `details.retryAt` say when to try again",
  },

  "job-not-found": {
    group: "job",
    codes: ["not-found"],
    meaning: "No such job (or its status document was deleted after JOB_RETENTION_DAYS). From createJob: the user's deleteMyData deleted the job while it ran",
  },
  "job-not-owned": { group: "job", codes: ["permission-denied"], meaning: "The job belongs to another user" },
  "result-gone": {
    group: "job",
    codes: ["not-found"],
    meaning: "No result is held: acknowledged, expired, or an image result (returned inline by createJob, never held)",
  },
  "upload-not-found": { group: "job", codes: ["not-found"], meaning: "createJob with an `uploadId` that is not the caller's, was already used, or expired" },

  "method-not-allowed": { group: "upload", codes: ["invalid-argument"], uploadStatus: 405, meaning: "Only POST" },
  "missing-id-token": { group: "upload", codes: ["unauthenticated"], uploadStatus: 401, meaning: "No `Authorization: Bearer <Firebase ID token>`" },
  "invalid-id-token": { group: "upload", codes: ["unauthenticated"], uploadStatus: 401, meaning: "The ID token is invalid or expired" },
  "missing-app-check": { group: "upload", codes: ["permission-denied"], uploadStatus: 403, meaning: "No `X-Firebase-AppCheck` header (outside the emulator)" },
  "invalid-app-check": { group: "upload", codes: ["permission-denied"], uploadStatus: 403, meaning: "The App Check token is invalid" },
  "not-multipart": { group: "upload", codes: ["invalid-argument"], uploadStatus: 415, meaning: "The body is not `multipart/form-data`" },
  "malformed-multipart": {
    group: "upload",
    codes: ["invalid-argument"],
    uploadStatus: 400,
    meaning: "The multipart headers cannot be parsed (e.g. no boundary)",
  },
  "upload-missing-file": { group: "upload", codes: ["invalid-argument"], uploadStatus: 400, meaning: "No file part named `file`" },
  "upload-extra-part": {
    group: "upload",
    codes: ["invalid-argument"],
    uploadStatus: 400,
    meaning: "More than one part, or a form field: send exactly one file part named `file`",
  },
  "upload-wrong-part": { group: "upload", codes: ["invalid-argument"], uploadStatus: 400, meaning: "The file part is not named `file`" },
  "upload-truncated": {
    group: "upload",
    codes: ["invalid-argument"],
    uploadStatus: 400,
    meaning: "The body ended early or is malformed (the upload was cut off)",
  },
  internal: {
    group: "upload",
    codes: ["internal"],
    uploadStatus: 500,
    meaning: "A bug or a Storage failure; the message carries a reference id that is also in the log",
  },
};
