/**
 * While deleteMyData / onUserDeleted runs for a user, `quotas/{uid}` holds only a marker,
 * `{ deletingSince }`, and createJob refuses new work for that user (`unavailable`, reason
 * `deletion-in-progress`). It lives in the quota document because createJob already reads that
 * document and commits its job conditioned on the version it read (jobs/repository.ts
 * createJobOnce): a createJob that read the document before the marker cannot commit after it,
 * and one that reads it after sees the marker, at no extra read. Pure; privacy/deleteData.ts
 * writes and lifts the marker.
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";

export const deletionMarkerSchema = z.strictObject({ deletingSince: z.custom<Timestamp>((v) => v instanceof Timestamp, "a Firestore Timestamp") });
export const DELETION_MARKER_FIELD = "deletingSince" satisfies keyof z.infer<typeof deletionMarkerSchema>;

/**
 * A marker older than this belongs to a deletion that crashed (deleteMyData and onUserDeleted time
 * out at 540 s): it stops blocking the user, and their next job overwrites it.
 */
export const DELETION_MARKER_STALE_MS = 15 * 60_000;

export const deletionMarker = (now: number) => ({ [DELETION_MARKER_FIELD]: Timestamp.fromMillis(now) });

/** True while `data` (the quota document) carries a deletion marker that is not stale. */
export function deletionUnderway(data: unknown, now: number): boolean {
  const since = (data as Record<string, unknown> | undefined)?.[DELETION_MARKER_FIELD];
  return since instanceof Timestamp && now - since.toMillis() < DELETION_MARKER_STALE_MS;
}

/** True if the document holds a marker field at all (stale or not): a job's write must remove it. */
export const holdsDeletionMarker = (data: unknown) => (data as Record<string, unknown> | undefined)?.[DELETION_MARKER_FIELD] !== undefined;
