/**
 * The pseudonym under which records of privacy requests are kept (CCPA regulations §7101: 24
 * months), so that they outlive the deletion they record without holding the uid.
 *
 * The salt is a Secret Manager secret rather than a param: whoever holds it can link a record to a
 * uid (that is how exportMyData finds a user's own records), so it must not sit in an .env file or
 * the deploy log. Set it once per project (`npx firebase functions:secrets:set PRIVACY_RECORD_SALT`,
 * any long random string); rotating it makes older records unlinkable, which keeps them valid as
 * records but leaves them out of later exports. Tiny on purpose: triggers import it to bind it.
 */
import { createHmac } from "node:crypto";
import { defineSecret } from "firebase-functions/params";

export const PRIVACY_RECORD_SALT = defineSecret("PRIVACY_RECORD_SALT", {
  description: "Key of the HMAC that pseudonymises uids in records of privacy requests (any long random string).",
});

/** Used only where no secret can exist: the emulator and tests. Deployed, a missing salt is an error. */
const EMULATOR_SALT = "photo-fixer-emulator-only-privacy-record-salt";

function salt(): string {
  const value = process.env[PRIVACY_RECORD_SALT.name];
  if (value) return value;
  const deployed = Boolean(process.env.K_SERVICE) && process.env.FUNCTIONS_EMULATOR !== "true";
  if (deployed) throw new Error("PRIVACY_RECORD_SALT is not set for this function");
  return EMULATOR_SALT;
}

/** HMAC-SHA256(salt, uid) in hex: the same uid always gives the same subject; the uid cannot be read back. */
export function requestSubjectOf(uid: string): string {
  return createHmac("sha256", salt()).update(uid, "utf8").digest("hex");
}
