/**
 * Kling's API token: a JWT (RFC 7519) signed HS256 with the secret key, `iss` = access key, valid
 * from 5 s ago for 30 minutes (the official recipe). Built with node:crypto: no JWT package.
 */
import { createHmac } from "node:crypto";

export const TOKEN_TTL_SECONDS = 1800;

export function signKlingToken(accessKey: string, secretKey: string, nowMs = Date.now()): string {
  const now = Math.floor(nowMs / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ iss: accessKey, exp: now + TOKEN_TTL_SECONDS, nbf: now - 5 })}`;
  return `${unsigned}.${createHmac("sha256", secretKey).update(unsigned).digest("base64url")}`;
}
