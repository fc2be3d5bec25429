/**
 * Calls a v2 callable's own handler (`.run`), the way the Functions runtime does after it has
 * verified the ID token: firebase-functions-test 3.5 can drop `auth` when wrapping v2 callables.
 */
import type { CallableFunction, CallableRequest } from "firebase-functions/v2/https";
import { HttpsError } from "firebase-functions/v2/https";

export async function callAs<T = unknown>(
  fn: CallableFunction<any, any>,
  uid: string | undefined,
  data: unknown,
  {
    appCheck = true,
    replayedAppCheck = false,
    headers = {},
    signedInAt = Date.now() - 60_000,
  }: { appCheck?: boolean; replayedAppCheck?: boolean; headers?: Record<string, string>; signedInAt?: number } = {},
): Promise<T> {
  const request = {
    data,
    // `auth_time` (seconds): a revocation after it (support/authAccounts.ts) revokes this token.
    auth: uid ? { uid, token: { uid, sub: uid, auth_time: Math.floor(signedInAt / 1000), firebase: { sign_in_provider: "anonymous" } } } : undefined,
    // What firebase-functions sets after verifying a valid X-Firebase-AppCheck token.
    app: appCheck
      ? { appId: "1:000000000000:ios:photofixer", token: { app_id: "1:000000000000:ios:photofixer" }, alreadyConsumed: replayedAppCheck }
      : undefined,
    // Node lowercases header names; so do we, as the runtime's Express request would show them.
    rawRequest: { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) },
    acceptsStreaming: false,
  } as unknown as CallableRequest<unknown>;
  return (await fn.run(request)) as T;
}

/** Runs a call expected to fail and returns the HttpsError, failing the test if it succeeded. */
export async function rejectionOf(promise: Promise<unknown>): Promise<HttpsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpsError) return error;
    throw new Error(`expected an HttpsError, got ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
  }
  throw new Error("expected the call to be rejected, but it succeeded");
}
