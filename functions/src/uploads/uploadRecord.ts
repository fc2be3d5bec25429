/**
 * What makes an object under `transient/uploads/` an upload createJob may take: uploadImage wrote
 * it (its metadata says so, for this user) and it is within UPLOAD_TTL_MINUTES of Storage's own
 * creation time, which no writer can set. Clients cannot write Storage at all (storage.rules): the
 * admin SDK in these functions is the only writer, and of those only uploadImage writes uploads, so
 * the checks are a second line should a rule or another writer ever let something else in there.
 */
import type { Settings } from "../config/params.js";
import type { TransientMetadata } from "../storage/paths.js";

/** The `writer` uploadImage records on every upload. */
export const UPLOAD_WRITER = "uploadImage";

export function uploadMetadata(uid: string, deleteAt: number): TransientMetadata {
  return { uid, kind: "uploads", deleteAt: String(deleteAt), writer: UPLOAD_WRITER };
}

export function isTakeableUpload(
  stored: { metadata: Partial<TransientMetadata>; createdAt?: number },
  uid: string,
  now: number,
  s: Pick<Settings, "uploadTtlMinutes">,
): boolean {
  const { metadata, createdAt } = stored;
  return (
    metadata.uid === uid &&
    metadata.kind === "uploads" &&
    metadata.writer === UPLOAD_WRITER &&
    createdAt !== undefined &&
    now < createdAt + s.uploadTtlMinutes * 60_000
  );
}
