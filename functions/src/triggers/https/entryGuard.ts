/**
 * The one entry guard of every client entry point: the callables (callable.ts `userCallable`) and
 * uploadImage (uploadHandler.ts). Each checks who calls and from which app in its own protocol (the
 * SDK verifies a callable's tokens; uploadImage verifies its headers with `authenticateUpload`),
 * then both pass here for what must be the same everywhere:
 *   - the account gate (privacy/accountGate.ts), BEFORE anything is written;
 *   - Global Privacy Control: an opt-out recorded alongside the request, never failing it;
 *   - one classifier of errors: an AppError is a refusal (logged with its code and reason, its
 *     message redacted), anything else a bug answered with a correlation id (the log gets the same
 *     id and a code, never the text). Callables map it to an HttpsError, uploadImage to JSON.
 * Request bodies are parsed in the services with `parseRequest` (util/zodMessage.ts). Service
 * modules are imported on first use, so loading the index stays cheap.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { isEmulator } from "../../config/params.js";
import { AppError, backendUnavailable, isTransientBackendError, type ErrorCode } from "../../errors.js";
import type { VerifiedClaims } from "../../privacy/accountGate.js";
import { sendsGpc } from "../../privacy/gpc.js";

/** A request the guard has let in: the GPC opt-out it started, to await before answering. */
export interface AdmittedCaller {
  gpc: Promise<void> | undefined;
}

/**
 * A deleted or disabled account, or a revoked sign-in, writes nothing, not even a GPC opt-out: its
 * ID token stays valid for up to an hour (privacy/accountGate.ts; one Auth lookup). Then a
 * `Sec-GPC: 1` request starts recording the opt-out (privacy/choices.ts honourGpcSignal), unless
 * the entry point takes the header itself (setPrivacyChoices).
 */
export async function admitCaller(
  fn: string,
  uid: string,
  claims: VerifiedClaims,
  headers: IncomingHttpHeaders | undefined,
  options: {
    handlesOwnGpc?: boolean;
    /**
     * The gate, where the caller has it loaded already: uploadImage passes it, as every module
     * load before the body is read widens the window in which a client's socket can drop unseen.
     */
    assertAccountActive?: (uid: string, claims: VerifiedClaims) => Promise<void>;
  } = {},
): Promise<AdmittedCaller> {
  const assertActive = options.assertAccountActive ?? (await import("../../privacy/accountGate.js")).assertAccountActive;
  await assertActive(uid, claims);
  const gpc = !options.handlesOwnGpc && sendsGpc(headers) ? honourGpc(uid, fn) : undefined;
  return { gpc };
}

async function honourGpc(uid: string, fn: string): Promise<void> {
  await (await import("../../privacy/choices.js")).honourGpcSignal(uid, fn).catch(() => undefined); // it logs its own failures
}

/** What a failed request is, for each entry point to answer in its own protocol. */
export type ClassifiedError =
  { kind: "refused"; error: AppError; code: ErrorCode; reason: string; message: string } | { kind: "internal"; correlationId: string; message: string };

/**
 * Classifies and logs a failure once. `isRefusal` says which errors are answers rather than bugs
 * (AppErrors by default).
 */
export async function classifyError(
  fn: string,
  error: unknown,
  isRefusal: (e: unknown) => e is AppError = isAppError,
  /** How this entry point words a refusal (uploadImage: an UploadRejection with its HTTP status). */
  asRefusal: (refusal: AppError) => AppError = (refusal) => refusal,
): Promise<ClassifiedError> {
  const logs = await import("../../logging/logs.js");
  const { errorSummary, redactText } = await import("../../logging/redact.js");
  if (isTransientBackendError(error)) {
    // Firestore or Storage briefly down (not a bug): a documented, retryable answer, logged by code.
    const { errorName, errorCode } = errorSummary(error);
    logs.backendUnavailable(fn, errorName, errorCode);
    error = asRefusal(backendUnavailable());
  }
  if (isRefusal(error)) {
    logs.requestRejected(fn, error.code, error.reason);
    return { kind: "refused", error, code: error.code, reason: error.reason, message: redactText(error.message) };
  }
  const correlationId = randomUUID();
  const { errorName, errorCode } = errorSummary(error);
  logs.internalError(correlationId, fn, errorName, errorCode);
  return { kind: "internal", correlationId, message: `Something went wrong on our side (reference ${correlationId}).` };
}

const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** How uploadImage verifies its headers' tokens: firebase-admin in production, fakes in tests and the bench. */
export interface TokenVerifiers {
  /** Resolves to the uid (and sign-in time) of a valid Firebase ID token; rejects otherwise. */
  verifyIdToken: (token: string) => Promise<{ uid: string; auth_time?: number }>;
  /** Resolves for a valid App Check token; rejects otherwise. */
  verifyAppCheck: (token: string) => Promise<void>;
}

/**
 * firebase-admin's verifiers (under the emulator with FIREBASE_AUTH_EMULATOR_HOST set, it accepts
 * Auth emulator tokens).
 */
export const firebaseTokenVerifiers: TokenVerifiers = {
  verifyIdToken: async (token) => {
    const { getAuth } = await import("firebase-admin/auth");
    const { uid, auth_time } = await getAuth().verifyIdToken(token);
    return { uid, auth_time };
  },
  verifyAppCheck: async (token) => {
    const { getAppCheck } = await import("firebase-admin/app-check");
    await getAppCheck().verifyToken(token);
  },
};

const EMULATOR_ACCOUNT_REFUSALS: Record<string, "account-deleted" | "account-disabled" | "token-revoked" | undefined> = {
  "auth/user-not-found": "account-deleted",
  "auth/user-disabled": "account-disabled",
  "auth/id-token-revoked": "token-revoked",
};

/**
 * uploadImage's own sign-in and App Check, from the headers alone (a callable's are the SDK's):
 * `Authorization: Bearer <ID token>`, and outside the emulator `X-Firebase-AppCheck`.
 */
export async function authenticateHeaders(headers: IncomingHttpHeaders, verifiers: TokenVerifiers): Promise<{ uid: string; claims: VerifiedClaims }> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? "")?.[1];
  if (!bearer) throw new AppError("unauthenticated", "Sign in to use Photo Fixer (send Authorization: Bearer <Firebase ID token>).", "missing-id-token");
  let claims: { uid: string; auth_time?: number };
  try {
    claims = await verifiers.verifyIdToken(bearer);
  } catch (error) {
    // Under the Auth emulator verifyIdToken looks the account up itself: the gate's answers.
    const refusal = EMULATOR_ACCOUNT_REFUSALS[(error as { code?: string }).code ?? ""];
    if (refusal) throw new AppError("unauthenticated", "Sign in to use Photo Fixer (this account or sign-in is no longer valid).", refusal);
    throw new AppError("unauthenticated", "Sign in to use Photo Fixer (the ID token is invalid or expired).", "invalid-id-token");
  }
  if (!claims.uid) throw new AppError("unauthenticated", "Sign in to use Photo Fixer (the ID token is invalid or expired).", "invalid-id-token");
  if (!isEmulator()) {
    const appCheck = headers["x-firebase-appcheck"];
    const token = typeof appCheck === "string" ? appCheck.trim() : "";
    if (!token) throw new AppError("permission-denied", "This app could not be verified (App Check).", "missing-app-check");
    try {
      await verifiers.verifyAppCheck(token);
    } catch {
      throw new AppError("permission-denied", "This app could not be verified (App Check).", "invalid-app-check");
    }
  }
  return { uid: claims.uid, claims };
}
