/**
 * Where data about a user lives: the one list that export, deletion and purge all read, so a new
 * kind of data cannot be forgotten by one of them. Everything face-bearing is under `transient/`.
 * `userDataLocations(uid)` (below) describes each place with its category and retention;
 * exportMyData, deleteMyData/onUserDeleted and the retention purge iterate over it, and
 * paths.test.ts fails if a path here is not one of its locations.
 */
import { jobRetentionMs, maxTransientTtlMs, settings, type Settings } from "../config/params.js";
import { firestorePaths, TRANSIENT_KINDS, TRANSIENT_ROOT, type NonUserCollection, type TransientKind } from "../storage/paths.js";
import { requestSubjectOf } from "./salt.js";

/**
 * The top-level collections that hold no data about any user, with why: export and deletion have
 * nothing to do there, and the privacy audit allows them (anything else outside the locations
 * below is reported). Keep them free of uids, job ids, prompts and anything face-bearing.
 */
export const NON_USER_COLLECTIONS = {
  /** `config/runtime`: the switches and routing admins edit in the console (config/runtimeConfig.ts). */
  config: "service settings edited by admins; names no user",
  /** `stats/{YYYY-MM-DD}`: daily aggregates for admins (stats/statsStore.ts): counts and durations only. */
  stats: "daily counts and durations of all jobs and purge runs; no uid, job id, request id or prompt",
  /** `providerSlots/{provider}`: the per-provider caps of video tasks (jobs/providerLimits.ts). */
  providerSlots:
    "per provider, a one-way hash of each running video job's id with its deadline (gone when the job ends) and the last minute's start times; no uid, job id, request id or prompt",
} as const satisfies Record<NonUserCollection, string>;

/** What kind of data a location holds, as the export names it to the user. */
export const DATA_CATEGORIES = {
  "job-status":
    "Status of your photo and video jobs: feature, provider and model, state, progress, timestamps and error codes. Never the photo, the prompt or the result.",
  "privacy-choices": "Your choices: opt-out of sale, opt-out of sharing, and whether your device sent a Global Privacy Control signal.",
  "privacy-request-records":
    "Records of your requests to know, delete and opt out (type, manner, time, outcome), kept under a salted hash of your user id, not the id itself, as the CCPA regulations require (24 months, also after deletion).",
  "usage-counters": "Counters that enforce per-user limits on how many jobs run (how many, and when).",
  "face-data":
    "Photos you uploaded, inputs staged for a provider, and generated results, each held only until it is used or delivered (minutes), then deleted.",
} as const;
export type DataCategory = keyof typeof DATA_CATEGORIES;

/**
 * How long a location's data lives and what removes it:
 * - `until-deleted`: until the user deletes their data or account;
 * - `age`: documents whose `field` (a Timestamp) is older than `maxAgeMs` are deleted by the
 *   retention purge (only ended jobs: `onlyTerminalJobs`); `ttlField` is a Firestore TTL field on
 *   the same documents, a second line the deploy steps turn on;
 * - `expiry-field`: documents whose `field` (a Timestamp) has passed are deleted by the retention
 *   purge; the same field is the Firestore TTL field;
 * - `transient-deadline`: objects carry `deleteAt` metadata and the transient purge deletes them
 *   past it (or past `maxAgeMs` if the metadata is missing).
 */
export type Retention =
  | { rule: "until-deleted"; text: string }
  | { rule: "age"; field: string; maxAgeMs: number; onlyTerminalJobs: boolean; ttlField: string; text: string }
  | { rule: "expiry-field"; field: string; text: string }
  | { rule: "transient-deadline"; maxAgeMs: number; text: string };

interface LocationBase {
  /** Key of this location in the export and the deletion counts. */
  id: string;
  category: DataCategory;
  retention: Retention;
  /** What deleteMyData does: delete it, or keep it (with the reason, told to the user). */
  onDelete: { action: "delete" } | { action: "keep"; reason: string };
}

/** One document named after the user. */
export interface FirestoreDocLocation extends LocationBase {
  kind: "firestore-doc";
  path: string;
}

/** Every document of a collection whose `field` equals `value` (the uid, or its pseudonym). */
export interface FirestoreQueryLocation extends LocationBase {
  kind: "firestore-query";
  collection: string;
  field: string;
  value: string;
  /** Job documents name provider tasks (video) whose copies are cancelled/deleted before the documents go. */
  holdsProviderTasks: boolean;
}

/** Every Storage object under a prefix. */
export interface StoragePrefixLocation extends LocationBase {
  kind: "storage-prefix";
  prefix: string;
  transientKind: TransientKind;
}

export type UserDataLocation = FirestoreDocLocation | FirestoreQueryLocation | StoragePrefixLocation;
export type LocationKind = UserDataLocation["kind"];
export const LOCATION_KINDS: readonly LocationKind[] = ["firestore-doc", "firestore-query", "storage-prefix"];

/** Records of privacy requests are kept 24 months (CCPA regulations §7101(a)). */
export const REQUEST_RECORD_RETENTION_MONTHS = 24;

const TRANSIENT_RETENTION: Record<TransientKind, (s: Settings) => string> = {
  uploads: (s) => `until a job uses it (then at once), at most ${s.uploadTtlMinutes} minutes (UPLOAD_TTL_MINUTES)`,
  inputs: (s) => `until the job ends, at most ${Math.max(s.imageJobDeadlineMinutes, s.videoJobDeadlineMinutes)} minutes (the job deadline)`,
  results: (s) => `until you acknowledge it, at most ${s.resultTtlMinutes} minutes (RESULT_TTL_MINUTES)`,
};

/**
 * Every place that holds data about `uid`, with its category, retention and what deletion does.
 * Also names which `firestorePaths` entries each location covers (`paths.test.ts` checks that none
 * is left out). Order matters for deletion: jobs first (their provider tasks are stopped while the
 * task ids are still known), Storage last (catching objects an in-flight invocation wrote meanwhile).
 */
export function userDataLocations(uid: string, s: Settings = settings()): UserDataLocation[] {
  const retentionDays = Math.round(jobRetentionMs(s) / 86_400_000);
  return [
    {
      id: "jobs",
      kind: "firestore-query",
      collection: firestorePaths.jobs,
      field: "uid",
      value: uid,
      holdsProviderTasks: true,
      category: "job-status",
      retention: {
        rule: "age",
        field: "createdAt",
        maxAgeMs: jobRetentionMs(s),
        onlyTerminalJobs: true,
        ttlField: "retainUntil",
        text: `${retentionDays} days after the job was created (JOB_RETENTION_DAYS), then deleted`,
      },
      onDelete: { action: "delete" },
    },
    {
      id: "privacyChoices",
      kind: "firestore-doc",
      path: firestorePaths.privacy(uid),
      category: "privacy-choices",
      retention: { rule: "until-deleted", text: "until you delete your data or your account" },
      onDelete: { action: "delete" },
    },
    {
      id: "quotas",
      kind: "firestore-doc",
      path: firestorePaths.quotas(uid),
      category: "usage-counters",
      retention: { rule: "until-deleted", text: "until you delete your data or your account" },
      onDelete: { action: "delete" },
    },
    {
      id: "privacyRequests",
      kind: "firestore-query",
      collection: firestorePaths.privacyRequests,
      field: "subject",
      // Computed on use: the purge reads these rules without a user and without the salt.
      get value() {
        return requestSubjectOf(uid);
      },
      holdsProviderTasks: false,
      category: "privacy-request-records",
      retention: { rule: "expiry-field", field: "expireAt", text: `${REQUEST_RECORD_RETENTION_MONTHS} months after the request, then deleted` },
      onDelete: {
        action: "keep",
        reason: `The law requires a record of each privacy request for ${REQUEST_RECORD_RETENTION_MONTHS} months, including this deletion; it holds no user id, only a salted hash of it.`,
      },
    },
    ...TRANSIENT_KINDS.map((kind): StoragePrefixLocation => ({
      id: kind,
      kind: "storage-prefix",
      prefix: `${TRANSIENT_ROOT}${kind}/${uid}/`,
      transientKind: kind,
      category: "face-data",
      retention: { rule: "transient-deadline", maxAgeMs: maxTransientTtlMs(s), text: TRANSIENT_RETENTION[kind](s) },
      onDelete: { action: "delete" },
    })),
  ];
}

/** Which `firestorePaths` entries each location stands for (the coverage test reads this). */
export const FIRESTORE_PATHS_BY_LOCATION: Record<string, (keyof typeof firestorePaths)[]> = {
  jobs: ["jobs", "job"],
  privacyChoices: ["privacy"],
  quotas: ["quotasCollection", "quotas"],
  privacyRequests: ["privacyRequests"],
};

/** Retention rules the purge enforces on Firestore, per collection (the same description, no uid). */
export function firestoreRetentionRules(s: Settings = settings()): { collection: string; retention: Extract<Retention, { rule: "age" | "expiry-field" }> }[] {
  return userDataLocations("(any user)", s).flatMap((l) =>
    l.kind === "firestore-query" && (l.retention.rule === "age" || l.retention.rule === "expiry-field")
      ? [{ collection: l.collection, retention: l.retention }]
      : [],
  );
}
