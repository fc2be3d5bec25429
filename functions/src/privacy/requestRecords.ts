/**
 * Records of consumer privacy requests (CCPA regulations §7101): the date of the request, its
 * nature, the manner in which it was made, the date and nature of the response. They hold no
 * personal data: the user is named only by `subject`, a salted hash of the uid (salt.ts), so a
 * record survives the deletion it records. Kept 24 months: `expireAt` is both what the retention
 * purge deletes by and the Firestore TTL field (deploy step in docs/DEPLOYING.md).
 */
import "../admin.js";
import { randomUUID } from "node:crypto";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import * as logs from "../logging/logs.js";
import { firestorePaths } from "../storage/paths.js";
import { REQUEST_RECORD_RETENTION_MONTHS } from "./paths.js";
import { requestSubjectOf } from "./salt.js";

export const REQUEST_TYPES = ["know", "delete", "opt-out", "opt-in"] as const;
export type PrivacyRequestType = (typeof REQUEST_TYPES)[number];

/** How the request reached us: the app's callable, a Global Privacy Control signal, or an Auth account deletion. */
export const REQUEST_CHANNELS = ["app", "gpc-signal", "account-deletion"] as const;
export type PrivacyRequestChannel = (typeof REQUEST_CHANNELS)[number];

const timestamp = z.custom<Timestamp>((v) => v instanceof Timestamp, "a Firestore Timestamp");

/** Strict: a field that could carry personal data cannot be added to a record unnoticed. */
export const privacyRequestDocSchema = z.strictObject({
  subject: z.string().regex(/^[a-f0-9]{64}$/),
  type: z.enum(REQUEST_TYPES),
  channel: z.enum(REQUEST_CHANNELS),
  requestedAt: timestamp,
  respondedAt: timestamp,
  outcome: z.enum(["fulfilled", "failed"]),
  /** For a failed request: the stable error code the user was given (never error text). */
  failureCode: z.string().max(40).optional(),
  expireAt: timestamp,
});
export type PrivacyRequestDoc = z.infer<typeof privacyRequestDocSchema>;

/** The same calendar date 24 months later (UTC). */
export function recordExpiry(requestedAt: number): number {
  const d = new Date(requestedAt);
  d.setUTCMonth(d.getUTCMonth() + REQUEST_RECORD_RETENTION_MONTHS);
  return d.getTime();
}

export interface RequestOutcome {
  outcome: "fulfilled" | "failed";
  failureCode?: string;
}

/** Writes one record. A random id: nothing about the user is in the document's name. */
export async function recordPrivacyRequest(
  uid: string,
  request: { type: PrivacyRequestType; channel: PrivacyRequestChannel; requestedAt: number },
  result: RequestOutcome,
  respondedAt = Date.now(),
): Promise<void> {
  const doc: PrivacyRequestDoc = privacyRequestDocSchema.parse({
    subject: requestSubjectOf(uid),
    type: request.type,
    channel: request.channel,
    requestedAt: Timestamp.fromMillis(request.requestedAt),
    respondedAt: Timestamp.fromMillis(respondedAt),
    outcome: result.outcome,
    ...(result.failureCode && { failureCode: result.failureCode.slice(0, 40) }),
    expireAt: Timestamp.fromMillis(recordExpiry(request.requestedAt)),
  });
  await getFirestore().collection(firestorePaths.privacyRequests).doc(randomUUID()).create(doc);
  logs.privacyRequestRecorded(request.type, request.channel, result.outcome);
}

/**
 * Runs a privacy request and records it whatever happens: a failure is recorded with its code and
 * rethrown. If the record itself cannot be written the call fails, so the client retries (every
 * privacy request is idempotent) and the request is not left unrecorded.
 */
export async function withRequestRecord<T>(
  uid: string,
  request: { type: PrivacyRequestType; channel: PrivacyRequestChannel },
  run: () => Promise<T>,
): Promise<T> {
  const requestedAt = Date.now();
  let value: T;
  try {
    value = await run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    await recordPrivacyRequest(uid, { ...request, requestedAt }, { outcome: "failed", failureCode: typeof code === "string" ? code : "internal" }).catch(
      () => undefined, // the original error is what the caller must see
    );
    throw error;
  }
  await recordPrivacyRequest(uid, { ...request, requestedAt }, { outcome: "fulfilled" });
  return value;
}
