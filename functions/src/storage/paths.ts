/**
 * Where the backend keeps things: the Storage paths of transient (face-bearing) objects, with their
 * metadata and longest lifetime per kind, and the Firestore paths of documents. Which of these hold
 * data about a user, and how export, deletion and the purge treat each, is privacy/paths.ts.
 */
import { maxTransientTtlMs, settings, type Settings } from "../config/params.js";

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
  jobPrefixes: (uid: string, jobId: string) => [`${TRANSIENT_ROOT}inputs/${uid}/${jobId}`, `${TRANSIENT_ROOT}results/${uid}/${jobId}`],
};

export const firestorePaths = {
  jobs: "jobs",
  job: (jobId: string) => `jobs/${jobId}`,
  privacy: (uid: string) => `privacy/${uid}`,
  quotasCollection: "quotas",
  quotas: (uid: string) => `quotas/${uid}`,
  /** Records of know/delete/opt-out requests, keyed by a salted hash of the uid (privacy/requestRecords.ts). */
  privacyRequests: "privacyRequests",
};

/** Top-level collections that hold no data about any user; privacy/paths.ts `NON_USER_COLLECTIONS` says why, for each. */
export type NonUserCollection = "config" | "stats" | "providerSlots";

/** Metadata every transient object carries, so the purge can act without any other lookup. */
export interface TransientMetadata {
  uid: string;
  jobId?: string;
  kind: TransientKind;
  /** Epoch milliseconds, as a string (Storage custom metadata values are strings). */
  deleteAt: string;
  /** Which function wrote an upload (uploads/uploadRecord.ts): createJob takes no other. */
  writer?: string;
}

/** The kind of a transient object, from its name (never its metadata, which is not ours to trust). */
export function transientKindOf(name: string): TransientKind | undefined {
  const kind = name.startsWith(TRANSIENT_ROOT) ? name.slice(TRANSIENT_ROOT.length).split("/", 1)[0] : undefined;
  return (TRANSIENT_KINDS as readonly (string | undefined)[]).includes(kind) ? (kind as TransientKind) : undefined;
}

/**
 * The longest an object of each kind may live after Storage created it: an upload its TTL, an
 * input the longest job deadline, a result its TTL. The purge never waits longer than this,
 * whatever `deleteAt` says (privacy/purge.ts `objectDeadline`).
 */
export function transientTtlMs(kind: TransientKind | undefined, s: Settings = settings()): number {
  switch (kind) {
    case "uploads":
      return s.uploadTtlMinutes * 60_000;
    case "inputs":
      return Math.max(s.imageJobDeadlineMinutes, s.videoJobDeadlineMinutes) * 60_000;
    case "results":
      return s.resultTtlMinutes * 60_000;
    default:
      return maxTransientTtlMs(s);
  }
}
