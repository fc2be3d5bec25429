/**
 * The one way a client entry point is declared: Firebase Auth required, App Check enforced outside
 * the emulator, and every error mapped to a documented HttpsError code. App Check is checked here
 * rather than with `enforceAppCheck`, which answers `unauthenticated`: the contract says a failed
 * App Check is `permission-denied`, distinct from a missing sign-in. Handlers live in service
 * modules that are imported on first call, so loading the index stays as cheap as one bare onCall.
 */
import { randomUUID } from "node:crypto";
import { HttpsError, onCall, type CallableOptions, type CallableRequest } from "firebase-functions/v2/https";
import { isEmulator } from "../../config/params.js";
import { AppError, backendUnavailable, isTransientBackendError } from "../../errors.js";
import { sendsGpc } from "../../privacy/gpc.js";
import { PRIVACY_RECORD_SALT } from "../../privacy/salt.js";
import { guardCallableBody } from "./rawBodyGuard.js";

export type UserHandler<T> = (uid: string, data: unknown, request: CallableRequest<unknown>) => Promise<T>;

/** Takes `Sec-GPC` itself (it is the request to change choices); every other callable honours it here. */
const HANDLES_OWN_GPC = new Set(["setPrivacyChoices"]);

export function userCallable<T>(name: string, options: CallableOptions, handler: UserHandler<T>) {
  // Every callable may record a privacy request (a GPC signal), so each can pseudonymise the uid.
  const secrets = [...(options.secrets ?? []), PRIVACY_RECORD_SALT];
  // The guard answers malformed bodies before the SDK logs them verbatim (rawBodyGuard.ts).
  return guardCallableBody(name, callable(name, { ...options, secrets }, handler), { reflectOrigin: options.cors === undefined || options.cors === true });
}

function callable<T>(name: string, options: CallableOptions, handler: UserHandler<T>) {
  return onCall(options, async (request) => {
    const uid = request.auth?.uid;
    if (!uid) throw new HttpsError("unauthenticated", "Sign in to use Photo Fixer.");
    // `request.app` is set only for a valid App Check token (invalid and missing ones leave it unset).
    if (!request.app && !isEmulator()) throw new HttpsError("permission-denied", "This app could not be verified (App Check).");
    // Only set where the function consumes tokens (createJob): a replayed token is refused.
    if (request.app?.alreadyConsumed) throw new HttpsError("permission-denied", "This App Check token was already used.");
    // Global Privacy Control on any entry point is an opt-out (privacy/choices.ts honourGpcSignal):
    // recorded alongside the request, never failing it, and only written when it changes something.
    const gpc = !HANDLES_OWN_GPC.has(name) && sendsGpc(request.rawRequest?.headers) ? honourGpc(uid, name) : undefined;
    try {
      return await handler(uid, request.data, request);
    } catch (error) {
      throw await toHttpsError(name, error);
    } finally {
      await gpc;
    }
  });
}

async function honourGpc(uid: string, fn: string): Promise<void> {
  await (await import("../../privacy/choices.js")).honourGpcSignal(uid, fn).catch(() => undefined); // it logs its own failures
}

async function toHttpsError(fn: string, error: unknown): Promise<HttpsError> {
  if (error instanceof HttpsError) return error;
  const logs = await import("../../logging/logs.js");
  if (isTransientBackendError(error)) {
    // Firestore or Storage briefly down (not a bug): a documented, retryable answer, logged by code.
    const { errorName, errorCode } = (await import("../../logging/redact.js")).errorSummary(error);
    logs.backendUnavailable(fn, errorName, errorCode);
    error = backendUnavailable();
  }
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
