/**
 * The one way a client entry point is declared: Firebase Auth required, App Check enforced outside
 * the emulator, the entry guard (entryGuard.ts: account gate, GPC, one error classifier), and
 * every error mapped to a documented HttpsError code. App Check is checked here
 * rather than with `enforceAppCheck`, which answers `unauthenticated`: the contract says a failed
 * App Check is `permission-denied`, distinct from a missing sign-in. Handlers live in service
 * modules that are imported on first call, so loading the index stays as cheap as one bare onCall.
 */
import { HttpsError, onCall, type CallableOptions, type CallableRequest } from "firebase-functions/v2/https";
import { isEmulator } from "../../config/params.js";
import { PRIVACY_RECORD_SALT } from "../../privacy/salt.js";
import { admitCaller, classifyError, type AdmittedCaller } from "./entryGuard.js";
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
    // The account gate and GPC, as for uploadImage (entryGuard.ts).
    let admitted: AdmittedCaller;
    try {
      admitted = await admitCaller(name, uid, request.auth!.token, request.rawRequest?.headers, { handlesOwnGpc: HANDLES_OWN_GPC.has(name) });
    } catch (error) {
      throw await toHttpsError(name, error);
    }
    try {
      return await handler(uid, request.data, request);
    } catch (error) {
      throw await toHttpsError(name, error);
    } finally {
      await admitted.gpc;
    }
  });
}

/** A callable's answer to a failure: the same code, with `details.reason` (and retry hints), or `internal`. */
async function toHttpsError(fn: string, error: unknown): Promise<HttpsError> {
  if (error instanceof HttpsError) return error;
  const classified = await classifyError(fn, error);
  if (classified.kind === "refused") return new HttpsError(classified.code, classified.message, { reason: classified.reason, ...classified.error.details });
  return new HttpsError("internal", classified.message, { correlationId: classified.correlationId });
}
