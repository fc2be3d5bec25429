/**
 * The one way a client entry point is declared: Firebase Auth required, App Check enforced outside
 * the emulator, and every error mapped to a documented HttpsError code. App Check is checked here
 * rather than with `enforceAppCheck`, which answers `unauthenticated`: the contract says a failed
 * App Check is `permission-denied`, distinct from a missing sign-in. Handlers live in service
 * modules that are imported on first call, so loading the index stays as cheap as one bare onCall.
 */
import { randomUUID } from "node:crypto";
import { HttpsError, onCall, type CallableOptions } from "firebase-functions/v2/https";
import { isEmulator } from "../../config/params.js";
import { AppError } from "../../errors.js";

export type UserHandler<T> = (uid: string, data: unknown) => Promise<T>;

export function userCallable<T>(name: string, options: CallableOptions, handler: UserHandler<T>) {
  return onCall(options, async (request) => {
    const uid = request.auth?.uid;
    if (!uid) throw new HttpsError("unauthenticated", "Sign in to use Photo Fixer.");
    // `request.app` is set only for a valid App Check token (invalid and missing ones leave it unset).
    if (!request.app && !isEmulator()) throw new HttpsError("permission-denied", "This app could not be verified (App Check).");
    // Only set where the function consumes tokens (createJob): a replayed token is refused.
    if (request.app?.alreadyConsumed) throw new HttpsError("permission-denied", "This App Check token was already used.");
    try {
      return await handler(uid, request.data);
    } catch (error) {
      throw await toHttpsError(name, error);
    }
  });
}

async function toHttpsError(fn: string, error: unknown): Promise<HttpsError> {
  if (error instanceof HttpsError) return error;
  const logs = await import("../../logging/logs.js");
  if (error instanceof AppError) {
    logs.requestRejected(fn, error.code, error.reason);
    const { redactText } = await import("../../logging/redact.js");
    return new HttpsError(error.code, redactText(error.message), { reason: error.reason, ...error.details });
  }
  // A bug: the client gets a correlation id, the log gets the same id and a code, never the text.
  const correlationId = randomUUID();
  const { errorSummary } = await import("../../logging/redact.js");
  const { errorName, errorCode } = errorSummary(error);
  logs.internalError(correlationId, fn, errorName, errorCode);
  return new HttpsError("internal", `Something went wrong on our side (reference ${correlationId}).`, { correlationId });
}
