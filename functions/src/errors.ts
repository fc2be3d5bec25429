/**
 * The one error type the domain code throws. Triggers turn it into an HttpsError with the same
 * code (see triggers/https/callable.ts); anything else becomes `internal` with a correlation id.
 * Messages are shown to users: they name the field or the reason, never echo input data.
 */
export type ErrorCode =
  | "invalid-argument"
  | "failed-precondition"
  | "permission-denied"
  | "unauthenticated"
  | "not-found"
  | "resource-exhausted"
  | "deadline-exceeded"
  | "unavailable"
  | "cancelled"
  | "internal";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Stable machine-readable reason, e.g. "image-type-mismatch"; safe to store in a job's error. */
    readonly reason: string = code,
    readonly details?: { retryAfterSeconds?: number; retryAt?: string },
  ) {
    super(message);
    this.name = "AppError";
  }
}

/** gRPC status codes of a Firestore call worth retrying later: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED. */
const TRANSIENT_GRPC_CODES = new Set([14, 4]);
/** HTTP statuses of a Cloud Storage call worth retrying later. */
const TRANSIENT_HTTP_STATUSES = new Set([503, 429]);
/** The connection to a backend failed or was cut (a restarting emulator, a network blip). */
const TRANSIENT_NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"]);

/** Seconds a client is told to wait after a backend failure: long enough for a blip to pass. */
export const BACKEND_RETRY_AFTER_SECONDS = 5;

/**
 * Whether an error thrown by Firestore (gRPC: numeric `code`), Cloud Storage (an ApiError: numeric
 * HTTP `code`) or the network under them means "our backend is briefly down" rather than a bug.
 * gRPC 4 and HTTP 429 are not both possible on one client, so the numeric sets do not collide
 * with real meanings: Firestore never answers 429/503, Storage never 4/14.
 */
export function isTransientBackendError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof AppError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number") return TRANSIENT_GRPC_CODES.has(code) || TRANSIENT_HTTP_STATUSES.has(code);
  if (typeof code === "string") return TRANSIENT_NETWORK_CODES.has(code);
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isTransientBackendError(cause);
}

/** What a client gets when Firestore or Storage failed transiently: documented, retryable. */
export const backendUnavailable = () =>
  new AppError("unavailable", "Photo Fixer's storage is briefly unavailable; try again in a few seconds.", "backend-unavailable", {
    retryAfterSeconds: BACKEND_RETRY_AFTER_SECONDS,
  });
