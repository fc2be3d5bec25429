/**
 * The right to delete: `deleteMyData({ deleteAccount? })` and `onUserDeleted` (the Auth account was
 * deleted) run the same `deleteUserData`. It walks `userDataLocations(uid)` (paths.ts), so every
 * place that holds user data is covered: job documents in batches, the privacy and quota
 * documents, every transient object under every prefix, and, before the job documents that name
 * them go, the provider's copies of video tasks where the provider's API allows it. Idempotent: a
 * second run finds nothing and deletes nothing. Records of privacy requests are kept (the law
 * requires them, and they hold no uid).
 *
 * New work is refused while a deletion runs: it first replaces `quotas/{uid}` with a marker
 * (quotas/deletionMarker.ts) that makes createJob answer `deletion-in-progress`, and a createJob
 * that read the quota document before the marker cannot commit its job after it (its batch is
 * conditioned on the version it read, or on the document's absence). The marker is lifted last,
 * and then the jobs are swept once more. Residual risk, in words: a createJob that read "no quota
 * document" before the marker and whose commit is delayed past the marker's removal AND that
 * final sweep (a gap longer than the whole deletion, which is at least eight round trips) keeps
 * its job; it is then indistinguishable from a job requested after the deletion. With
 * `deleteAccount` the account gate refuses the token from then on and onUserDeleted sweeps again.
 * uploadImage does not look at the marker (it would add a Firestore read to every upload): an
 * upload that lands after the sweep is not usable (createJob refuses) and is purged at its TTL.
 */
import "../admin.js";
import { FieldPath, getFirestore } from "firebase-admin/firestore";
import { z } from "zod";
import { jobDocSchema } from "../jobs/schema.js";
import { deleteAtProvider } from "../jobs/videoJob.js";
import { parseRequest } from "../util/zodMessage.js";
import * as logs from "../logging/logs.js";
import { deletionMarker, deletionMarkerSchema } from "../quotas/deletionMarker.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { userDataLocations, type LocationKind, type UserDataLocation } from "./paths.js";
import { firestorePaths } from "../storage/paths.js";
import { recordPrivacyRequest, withRequestRecord } from "./requestRecords.js";
import { deleteTransientPrefixPaged } from "../storage/transientStore.js";
import { dependency } from "../util/dependencies.js";

export const deleteRequestSchema = z
  .strictObject({ deleteAccount: z.boolean().optional() })
  .nullish()
  .transform((v) => v ?? {});

export interface ProviderCopies {
  /** Provider tasks cancelled or deleted through the provider's API. */
  deleted: number;
  /** Tasks at providers whose API offers no deletion: their stated retention applies (exportMyData lists it). */
  notPossible: number;
  /** Deletion was asked for but failed (logged); the provider's stated retention applies. */
  failed: number;
}

export interface DeletionResult {
  /** How many documents or objects were deleted, per location of paths.ts (0 for kept ones). */
  deleted: Record<string, number>;
  /** Locations deliberately kept, with the reason (records of privacy requests). */
  kept: { id: string; reason: string }[];
  providerCopies: ProviderCopies;
  /** True if this call deleted the Firebase Auth account. */
  accountDeleted: boolean;
}

/** Firestore allows 500 writes per batch; pages are that size. */
const PAGE_SIZE = 500;
const PROVIDER_CONCURRENCY = 8;
const GRPC_NOT_FOUND = 5;

type Deleter<K extends LocationKind> = (location: Extract<UserDataLocation, { kind: K }>, providerCopies: ProviderCopies) => Promise<number>;

/** One deleter per kind of location: a new location of a known kind is deleted without new code. */
export const DELETERS: { [K in LocationKind]: Deleter<K> } = {
  "firestore-doc": async (location) => {
    try {
      await getFirestore().doc(location.path).delete({ exists: true });
      return 1;
    } catch (error) {
      if ((error as { code?: number }).code === GRPC_NOT_FOUND) return 0;
      throw error;
    }
  },
  "firestore-query": async (location, providerCopies) => {
    const db = getFirestore();
    let deleted = 0;
    // Always the first page again: deleted documents drop out of the query.
    for (;;) {
      const snap = await db.collection(location.collection).where(location.field, "==", location.value).orderBy(FieldPath.documentId()).limit(PAGE_SIZE).get();
      if (snap.empty) return deleted;
      if (location.holdsProviderTasks) await deleteProviderCopies(snap.docs, providerCopies);
      const batch = db.batch();
      for (const doc of snap.docs) batch.delete(doc.ref);
      await batch.commit();
      deleted += snap.size;
    }
  },
  "storage-prefix": async (location) => deleteTransientPrefixPaged(location.prefix),
};

async function deleteProviderCopies(docs: FirebaseFirestore.QueryDocumentSnapshot[], tally: ProviderCopies): Promise<void> {
  await mapWithConcurrency(docs, PROVIDER_CONCURRENCY, async (doc) => {
    const job = jobDocSchema.safeParse(doc.data());
    if (!job.success) return;
    const outcome = await deleteAtProvider(job.data, doc.id);
    if (outcome === "deleted") tally.deleted++;
    else if (outcome === "not-possible") tally.notPossible++;
    else if (outcome === "failed") tally.failed++;
  });
}

/** Deletes the Firebase Auth user; false if there was none. Replaceable in tests (no Auth emulator in-process). */
export type AuthUserDeleter = (uid: string) => Promise<boolean>;

const firebaseAuthUserDeleter: AuthUserDeleter = async (uid) => {
  const { getAuth } = await import("firebase-admin/auth");
  try {
    await getAuth().deleteUser(uid);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "auth/user-not-found") return false;
    throw error;
  }
};

/** Replaced in tests (util/dependencies.ts); the end-to-end test deletes real Auth emulator accounts. */
export const authUserDeleter = dependency<AuthUserDeleter>("authUserDeleter", firebaseAuthUserDeleter);

const deleteLocation = (location: UserDataLocation, providerCopies: ProviderCopies) =>
  (DELETERS[location.kind] as Deleter<LocationKind>)(location as never, providerCopies);

/**
 * Replaces the quota document with the deletion marker. Returns whether it held the user's
 * counters (so the answer counts it as deleted) and the marker's time, to lift only our own.
 */
async function placeDeletionMarker(uid: string): Promise<{ heldCounters: boolean; since: number }> {
  const ref = getFirestore().doc(firestorePaths.quotas(uid));
  const since = Date.now();
  const heldCounters = await getFirestore().runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    tx.set(ref, deletionMarker(since));
    // A marker alone (another deletion's, running or crashed) is no data of the user's.
    return snap.exists && !deletionMarkerSchema.safeParse(snap.data()).success;
  });
  return { heldCounters, since };
}

/** Deletes the marker unless another deletion replaced it meanwhile (that one lifts its own). */
async function liftDeletionMarker(uid: string, since: number): Promise<void> {
  const ref = getFirestore().doc(firestorePaths.quotas(uid));
  await getFirestore().runTransaction(async (tx) => {
    const marker = deletionMarkerSchema.safeParse((await tx.get(ref)).data());
    if (marker.success && marker.data.deletingSince.toMillis() === since) tx.delete(ref);
  });
}

/** Deletes everything held about `uid` (in the order of userDataLocations), then the Auth account if asked. */
export async function deleteUserData(uid: string, options: { deleteAccount: boolean; channel: "app" | "account-deletion" }): Promise<DeletionResult> {
  const result: DeletionResult = { deleted: {}, kept: [], providerCopies: { deleted: 0, notPossible: 0, failed: 0 }, accountDeleted: false };
  // On failure the marker stays: new work waits for a retry (or DELETION_MARKER_STALE_MS).
  const { heldCounters, since } = await placeDeletionMarker(uid);
  const locations = userDataLocations(uid);
  for (const location of locations) {
    if (location.onDelete.action === "keep") {
      result.deleted[location.id] = 0;
      result.kept.push({ id: location.id, reason: location.onDelete.reason });
      continue;
    }
    // The quota document is the marker now: its counters went when it was placed; it goes last.
    if (location.kind === "firestore-doc" && location.path === firestorePaths.quotas(uid)) {
      result.deleted[location.id] = Number(heldCounters);
      continue;
    }
    result.deleted[location.id] = await deleteLocation(location, result.providerCopies);
  }
  await liftDeletionMarker(uid, since);
  // A createJob whose quota read predates the marker, delayed until the marker was gone (see above).
  for (const location of locations) {
    if (location.kind === "firestore-query" && location.holdsProviderTasks)
      result.deleted[location.id]! += await deleteLocation(location, result.providerCopies);
  }
  // The account goes last: if anything above fails, the user can still sign in and ask again.
  if (options.deleteAccount) result.accountDeleted = await authUserDeleter.get()(uid);
  logs.userDataDeleted(options.channel, {
    ...result.deleted,
    providerCopiesDeleted: result.providerCopies.deleted,
    providerCopiesNotPossible: result.providerCopies.notPossible,
    providerCopiesFailed: result.providerCopies.failed,
    accountDeleted: Number(result.accountDeleted),
  });
  return result;
}

const heldAnything = (r: DeletionResult) =>
  Object.values(r.deleted).some((n) => n > 0) || r.providerCopies.deleted + r.providerCopies.notPossible + r.providerCopies.failed > 0;

/** `deleteMyData({ deleteAccount? })` → what was deleted. Recorded as a delete request. */
export async function deleteMyData(uid: string, data: unknown): Promise<DeletionResult> {
  const deleteAccount = parseRequest(deleteRequestSchema, data).deleteAccount === true;
  return withRequestRecord(uid, { type: "delete", channel: "app" }, () => deleteUserData(uid, { deleteAccount, channel: "app" }));
}

/**
 * `onUserDeleted`: the Auth account is gone (the user deleted it, an admin did in the console, or
 * deleteMyData({ deleteAccount: true }) did), so everything held about it goes too. Recorded as a
 * delete request only if it found something: after deleteMyData({ deleteAccount: true }) the data
 * is already gone and that request is already recorded. A failure is recorded and rethrown, so the
 * event is retried (the function is deployed with retries; deletion is idempotent).
 */
export async function handleUserDeleted(uid: string): Promise<DeletionResult> {
  const requestedAt = Date.now();
  let result: DeletionResult;
  try {
    result = await deleteUserData(uid, { deleteAccount: false, channel: "account-deletion" });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    await recordPrivacyRequest(
      uid,
      { type: "delete", channel: "account-deletion", requestedAt },
      { outcome: "failed", failureCode: typeof code === "string" ? code : "internal" },
    ).catch(() => undefined);
    throw error;
  }
  if (heldAnything(result)) await recordPrivacyRequest(uid, { type: "delete", channel: "account-deletion", requestedAt }, { outcome: "fulfilled" });
  return result;
}
