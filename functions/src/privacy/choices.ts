/**
 * The right to opt out of sale and sharing: `setPrivacyChoices` stores the user's choices in
 * `privacy/{uid}` (readable by the user, so the app can switch its own analytics SDKs off), and a
 * Global Privacy Control signal is an opt-out of both wherever it arrives. The backend itself
 * sends no usage data to anyone (usageSharing.ts), so honouring a choice here means recording it
 * for the app and for anything that would ever ask `mayShareUsageData`.
 */
import "../admin.js";
import type { IncomingHttpHeaders } from "node:http";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { parseRequest } from "../util/zodMessage.js";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import {
  nextChoices,
  privacyChoicesDocSchema,
  requestTypeOf,
  sameChoices,
  setPrivacyChoicesRequestSchema,
  type PrivacyChoices,
  type PrivacyChoicesDoc,
} from "./choicesSchema.js";
import { sendsGpc } from "./gpc.js";
import { firestorePaths } from "../storage/paths.js";
import { recordPrivacyRequest, withRequestRecord } from "./requestRecords.js";

export interface PrivacyChoicesResponse extends PrivacyChoices {
  /** ISO 8601; absent while nothing was ever stored (the defaults: no opt-out). */
  updatedAt?: string;
}

/** What a user who never chose anything has. */
const NO_OPT_OUT: PrivacyChoices = { optOutOfSale: false, optOutOfSharing: false, gpc: false };

const choicesRef = (uid: string) => getFirestore().doc(firestorePaths.privacy(uid));

/** The stored choices, or undefined. A malformed document counts as the strictest choices. */
export function parseChoices(data: unknown): PrivacyChoicesDoc {
  const parsed = privacyChoicesDocSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  // Fail safe: someone edited the document by hand; never read that as consent to share.
  return { optOutOfSale: true, optOutOfSharing: true, gpc: false, updatedAt: Timestamp.now() };
}

export async function getPrivacyChoices(uid: string): Promise<PrivacyChoicesDoc | undefined> {
  const snap = await choicesRef(uid).get();
  return snap.exists ? parseChoices(snap.data()) : undefined;
}

const toResponse = (c: PrivacyChoicesDoc | undefined): PrivacyChoicesResponse =>
  c ? { optOutOfSale: c.optOutOfSale, optOutOfSharing: c.optOutOfSharing, gpc: c.gpc, updatedAt: c.updatedAt.toDate().toISOString() } : { ...NO_OPT_OUT };

/**
 * Applies the change in a transaction (one read, and one write only if something changes) and
 * returns what is stored. Writes nothing when the result equals what is stored.
 */
async function applyChoices(
  uid: string,
  change: (current: PrivacyChoices | undefined) => PrivacyChoices,
): Promise<{ stored: PrivacyChoicesDoc | undefined; changed: boolean }> {
  return getFirestore().runTransaction(async (tx) => {
    const snap = await tx.get(choicesRef(uid));
    const current = snap.exists ? parseChoices(snap.data()) : undefined;
    const next = change(current);
    // No document means the defaults: writing the defaults would change nothing.
    if (sameChoices(current ?? NO_OPT_OUT, next)) return { stored: current, changed: false };
    const doc: PrivacyChoicesDoc = { ...next, updatedAt: Timestamp.now() };
    tx.set(choicesRef(uid), doc);
    return { stored: doc, changed: true };
  });
}

/**
 * `setPrivacyChoices({ optOutOfSale?, optOutOfSharing?, gpc? })` → the stored choices. `Sec-GPC: 1`
 * on the request, or `gpc: true`, opts out of both, even if the same request asks otherwise (the
 * response then shows `gpc: true`, so the app can explain why). `{}` reads the choices back.
 */
export async function setPrivacyChoices(uid: string, data: unknown, headers: IncomingHttpHeaders | undefined): Promise<PrivacyChoicesResponse> {
  const request = parseRequest(setPrivacyChoicesRequestSchema, data);
  const gpcHeader = sendsGpc(headers);
  const type = requestTypeOf(request, gpcHeader);
  const apply = async () => (await applyChoices(uid, (current) => nextChoices(current, request, gpcHeader))).stored;
  if (!type) return toResponse(await apply()); // reads back, or only reports `gpc: false`: no request to record
  return toResponse(await withRequestRecord(uid, { type, channel: gpcHeader ? "gpc-signal" : "app" }, apply));
}

/**
 * `Sec-GPC: 1` on any other entry point: stored as an opt-out of both, and recorded as an opt-out
 * request, only when it changes the stored choices, so a client that sends it on every call costs
 * one read per call and no write after the first. Best effort: a failure is logged, never fails
 * the user's request (the next request carrying the signal tries again).
 */
export async function honourGpcSignal(uid: string, fn: string): Promise<void> {
  try {
    const requestedAt = Date.now();
    const { changed } = await applyChoices(uid, (current) => nextChoices(current, {}, true));
    if (changed) await recordPrivacyRequest(uid, { type: "opt-out", channel: "gpc-signal", requestedAt }, { outcome: "fulfilled" });
  } catch (error) {
    logs.gpcSignalNotRecorded(fn, errorSummary(error).errorCode);
  }
}
