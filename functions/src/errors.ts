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
