/**
 * `onUserDeleted` (ARCHITECTURE §3): the Firebase Auth account was deleted, so everything held
 * about it is deleted by the same code as deleteMyData (privacy/deleteData.ts). 2nd gen has no
 * such trigger, so this is the one 1st-gen function (firebase-functions/v1 `auth.user().onDelete`).
 *
 * It imports `firebase-functions/v1/auth` alone (+3 ms at cold start) rather than the
 * `firebase-functions/v1` index (+300 ms: it loads every 1st-gen provider). That module's builder
 * takes no runtime options, so the options go through `_userWithOptions`, the function the index's
 * `runWith(...).auth` itself calls (firebase-functions 7.4.0, pinned); onUserDeleted.test.ts checks
 * the deployed endpoint it yields (event, retry, secrets).
 *
 * Admins: bulk `auth.deleteUsers([...])` (Admin SDK) does NOT fire this trigger; delete users one by
 * one (`deleteUser`, the console, or the client's `user.delete()`) or call deleteMyData for them.
 */
import * as authV1 from "firebase-functions/v1/auth";
import { PROVIDER_DELETION_SECRETS } from "../../providers/retention.js";
import { PRIVACY_RECORD_SALT } from "../../privacy/salt.js";

interface V1RuntimeOptions {
  secrets?: unknown[];
  /** Retry the event until it succeeds (up to 7 days): deletion is idempotent. */
  failurePolicy?: boolean;
  timeoutSeconds?: number;
  memory?: "256MB" | "512MB" | "1GB";
  /** 1st gen serves one event per instance; no concurrency or cpu options exist there. */
  maxInstances?: number;
}
type UserWithOptions = (options: V1RuntimeOptions, userOptions: authV1.UserOptions) => authV1.UserBuilder;
const userWithOptions = (authV1 as unknown as { _userWithOptions: UserWithOptions })._userWithOptions;

export const onUserDeleted = userWithOptions(
  { secrets: [...PROVIDER_DELETION_SECRETS, PRIVACY_RECORD_SALT], failurePolicy: true, timeoutSeconds: 540, memory: "256MB", maxInstances: 10 },
  {},
).onDelete(async (user) => {
  await (await import("../../privacy/deleteData.js")).handleUserDeleted(user.uid);
});
