/**
 * Where data about a user lives: the one list that export, deletion and purge all read, so a new
 * kind of data cannot be forgotten by one of them. Everything face-bearing is under `transient/`.
 */
export const TRANSIENT_ROOT = "transient/";

export const TRANSIENT_KINDS = ["uploads", "inputs", "results"] as const;
export type TransientKind = (typeof TRANSIENT_KINDS)[number];

export const transientPaths = {
  /** Photos streamed in by uploadImage, until a job consumes them or they expire. */
  upload: (uid: string, uploadId: string) => `${TRANSIENT_ROOT}uploads/${uid}/${uploadId}`,
  /** Inputs staged for providers that need a URL rather than bytes. */
  input: (uid: string, jobId: string) => `${TRANSIENT_ROOT}inputs/${uid}/${jobId}`,
  /** Results held until the client has them (video), then deleted. */
  result: (uid: string, jobId: string) => `${TRANSIENT_ROOT}results/${uid}/${jobId}`,
  /** Every prefix that may hold a user's objects. */
  userPrefixes: (uid: string) => TRANSIENT_KINDS.map((kind) => `${TRANSIENT_ROOT}${kind}/${uid}/`),
  /** Every prefix that may hold one job's objects (uploads are found through their metadata). */
  jobPrefixes: (uid: string, jobId: string) => [
    `${TRANSIENT_ROOT}inputs/${uid}/${jobId}`,
    `${TRANSIENT_ROOT}results/${uid}/${jobId}`,
  ],
};

export const firestorePaths = {
  jobs: "jobs",
  job: (jobId: string) => `jobs/${jobId}`,
  privacy: (uid: string) => `privacy/${uid}`,
  quotas: (uid: string) => `quotas/${uid}`,
};

/** Metadata every transient object carries, so the purge can act without any other lookup. */
export interface TransientMetadata {
  uid: string;
  jobId?: string;
  kind: TransientKind;
  /** Epoch milliseconds, as a string (Storage custom metadata values are strings). */
  deleteAt: string;
}
