/**
 * Firebase Auth as the account gate sees it (src/privacy/accountGate.ts), for in-process tests:
 * the Auth emulator does not run in-process (the end-to-end test uses the real one). Every uid is
 * an active account unless a test deletes, disables or revokes it here. startBackends installs
 * it; useBackends resets it before each test.
 */
import type { AccountLookup, AccountState } from "../../src/privacy/accountGate.js";

const changed = new Map<string, AccountState | "deleted">();
let failure: Error | undefined;

export const testAccounts = {
  /** As `getAuth().deleteUser(uid)`: later lookups find no user. */
  delete: (uid: string) => void changed.set(uid, "deleted"),
  disable: (uid: string) => void changed.set(uid, { disabled: true }),
  /** As `getAuth().revokeRefreshTokens(uid)`: tokens signed in before `atMs` are revoked. */
  revokeTokens: (uid: string, atMs = Date.now()) => void changed.set(uid, { disabled: false, tokensValidAfterMs: Math.floor(atMs / 1000) * 1000 }),
  /** Makes every lookup fail (Auth unreachable) until reset. */
  failLookups: (error: Error | undefined) => void (failure = error),
  reset: () => {
    changed.clear();
    failure = undefined;
  },
  lookup: (async (uid) => {
    if (failure) throw failure;
    const state = changed.get(uid);
    if (state === "deleted") return undefined;
    return state ?? { disabled: false };
  }) satisfies AccountLookup,
};

/** Points the account gate at this model; returns the restore function. */
export async function installTestAccounts(): Promise<() => void> {
  return (await import("./dependencies.js")).replace("accountLookup", testAccounts.lookup);
}
