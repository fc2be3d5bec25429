/**
 * The account gate: an ID token stays valid for up to an hour after its account is deleted or
 * disabled, or after its sign-in is revoked, so a verified token alone does not prove the caller
 * may still write. Every callable (privacy request records and a GPC opt-out can make any of them
 * write) and uploadImage ask here first, BEFORE anything is written: without it a deleted
 * account's token re-created `jobs`, `quotas/{uid}` and `privacy/{uid}` that nothing would remove.
 *
 * The same rules as firebase-admin's `verifyIdToken(token, true)`, on the claims the SDK has
 * already verified, so the cost is one Firebase Auth lookup (`getUser`, one Identity Toolkit
 * `accounts:lookup` request) per call and no Firestore read:
 *   - no such user → `unauthenticated`, reason `account-deleted`;
 *   - disabled → `unauthenticated`, reason `account-disabled`;
 *   - the token's `auth_time` before the account's `tokensValidAfterTime` → `token-revoked`;
 *   - the lookup itself failing → `unavailable`, reason `account-check-unavailable` (fail closed:
 *     a write we cannot vouch for is refused, and the client retries).
 * Nothing is cached: an instance that remembered "exists" would let a just-deleted account write.
 */
import "../admin.js";
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import { dependency } from "../util/dependencies.js";

/** What the gate needs to know about an account; undefined from a lookup means there is none. */
export interface AccountState {
  disabled: boolean;
  /** Epoch ms: ID tokens whose sign-in (`auth_time`) is earlier were revoked. */
  tokensValidAfterMs?: number;
}

export type AccountLookup = (uid: string) => Promise<AccountState | undefined>;

/** The verified claims the gate reads (a DecodedIdToken has them). */
export interface VerifiedClaims {
  /** Seconds since the epoch: when the user signed in. */
  auth_time?: number;
}

const firebaseAccountLookup: AccountLookup = async (uid) => {
  const { getAuth } = await import("firebase-admin/auth");
  try {
    const user = await getAuth().getUser(uid);
    const validAfter = user.tokensValidAfterTime ? Date.parse(user.tokensValidAfterTime) : NaN;
    return { disabled: user.disabled, ...(Number.isFinite(validAfter) && { tokensValidAfterMs: validAfter }) };
  } catch (error) {
    if ((error as { code?: string }).code === "auth/user-not-found") return undefined;
    throw error;
  }
};

/** Replaced in tests and the bench (util/dependencies.ts): test/support/authAccounts.ts models Auth. */
export const accountLookup = dependency<AccountLookup>("accountLookup", firebaseAccountLookup);

/** Resolves if `uid`'s account exists, is enabled and this sign-in was not revoked; throws an AppError otherwise. */
export async function assertAccountActive(uid: string, claims: VerifiedClaims): Promise<void> {
  let account: AccountState | undefined;
  try {
    account = await accountLookup.get()(uid);
  } catch (error) {
    logs.accountCheckFailed(errorSummary(error).errorCode);
    throw new AppError("unavailable", "Your account could not be checked just now; try again shortly.", "account-check-unavailable");
  }
  if (!account) throw new AppError("unauthenticated", "This account has been deleted; sign in again to start afresh.", "account-deleted");
  if (account.disabled) throw new AppError("unauthenticated", "This account is disabled.", "account-disabled");
  // A token without auth_time cannot show it predates a revocation: refused once one happened.
  if (account.tokensValidAfterMs !== undefined && (claims.auth_time ?? 0) * 1000 < account.tokensValidAfterMs) {
    throw new AppError("unauthenticated", "This sign-in was revoked; sign in again.", "token-revoked");
  }
}
