/**
 * Retention in Firestore (run by the scheduled purge): nothing about a user outlives its stated
 * retention. The rules are not written here but read from paths.ts (`firestoreRetentionRules`, the
 * same description export and deletion use): ended job status documents older than
 * JOB_RETENTION_DAYS, and records of privacy requests past their 24 months. Firestore TTL policies
 * on the same documents (`retainUntil`, `expireAt`) are the second line; TTL deletes within about a
 * day of expiry, this purge within one schedule interval. Idempotent; pages through any number.
 */
import "../admin.js";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { isTerminal, JOB_STATUSES, type JobStatus } from "../domain/jobStatus.js";
import { DELETION_MARKER_FIELD, DELETION_MARKER_STALE_MS, deletionMarkerSchema } from "../quotas/deletionMarker.js";
import { firestorePaths } from "../storage/paths.js";
import { firestoreRetentionRules } from "./paths.js";

const GRPC_FAILED_PRECONDITION = 9;
const GRPC_NOT_FOUND = 5;

/** Documents deleted, per collection. */
export type RetentionCounts = Record<string, number>;

export async function purgePastRetention(now: number, options: { pageSize?: number } = {}): Promise<RetentionCounts> {
  const pageSize = Math.min(options.pageSize ?? 500, 500); // one batch per page
  const db = getFirestore();
  const counts: RetentionCounts = {};
  for (const { collection, retention } of firestoreRetentionRules()) {
    const cutoff = Timestamp.fromMillis(retention.rule === "age" ? now - retention.maxAgeMs : now);
    const keep = (doc: FirebaseFirestore.QueryDocumentSnapshot) => retention.rule === "age" && retention.onlyTerminalJobs && !isEndedJob(doc.get("status"));
    let deleted = 0;
    let cursor: FirebaseFirestore.QueryDocumentSnapshot | undefined;
    do {
      let query = db.collection(collection).where(retention.field, "<=", cutoff).orderBy(retention.field).limit(pageSize);
      if (cursor) query = query.startAfter(cursor);
      const snap = await query.get();
      const doomed = snap.docs.filter((doc) => !keep(doc));
      if (doomed.length) {
        const batch = db.batch();
        for (const doc of doomed) batch.delete(doc.ref);
        await batch.commit();
        deleted += doomed.length;
      }
      cursor = snap.size === pageSize ? snap.docs[snap.size - 1] : undefined;
    } while (cursor);
    counts[collection] = deleted;
  }
  return counts;
}

/** A job still queued or running is never deleted for its age: the stale-job sweep ends it first. */
function isEndedJob(status: unknown): boolean {
  return JOB_STATUSES.includes(status as JobStatus) && isTerminal(status as JobStatus);
}

/**
 * A deletion that crashed (privacy/deleteData.ts) leaves `quotas/{uid}` holding only its marker.
 * A user who goes on using the app overwrites it with their next job; for a deleted account nothing
 * would, so a document named by their uid would stay for ever. The purge deletes markers once they
 * are stale. Each delete is conditioned on the version read: a job that replaced the marker
 * meanwhile keeps its counters. Returns how many markers went.
 */
export async function purgeStaleDeletionMarkers(now: number, options: { pageSize?: number } = {}): Promise<number> {
  const pageSize = Math.min(options.pageSize ?? 500, 500);
  const cutoff = Timestamp.fromMillis(now - DELETION_MARKER_STALE_MS);
  const quotas = getFirestore().collection(firestorePaths.quotasCollection);
  let deleted = 0;
  let cursor: FirebaseFirestore.QueryDocumentSnapshot | undefined;
  do {
    let query = quotas.where(DELETION_MARKER_FIELD, "<=", cutoff).orderBy(DELETION_MARKER_FIELD).limit(pageSize);
    if (cursor) query = query.startAfter(cursor);
    const snap = await query.get();
    for (const doc of snap.docs) {
      // A quota document that also holds counters is the user's: their next job lifts the marker.
      if (!deletionMarkerSchema.safeParse(doc.data()).success) continue;
      try {
        await doc.ref.delete({ lastUpdateTime: doc.updateTime });
        deleted++;
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code !== GRPC_FAILED_PRECONDITION && code !== GRPC_NOT_FOUND) throw error;
      }
    }
    cursor = snap.size === pageSize ? snap.docs[snap.size - 1] : undefined;
  } while (cursor);
  return deleted;
}
