/**
 * The privacy audit behind `npm run audit:privacy`: scans Firestore, the transient bucket and Auth
 * for anything that breaks the privacy promises and counts it. Every location it knows comes from
 * paths.ts (`userDataLocations`), so a kind of data added there is audited without a change here,
 * and a location of a shape the audit cannot read stops it with an error rather than being skipped.
 *
 * Read-only: it only gets and lists (documents, collection ids, objects, accounts).
 */
import "../admin.js";
import { getAuth, type GetUsersResult, type UserIdentifier } from "firebase-admin/auth";
import { FieldPath, getFirestore, type DocumentReference, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { Bucket, File } from "@google-cloud/storage";
import { settings, type Settings } from "../config/params.js";
import { JOB_DOC_FIELDS } from "../jobs/schema.js";
import { deletionMarkerSchema, deletionUnderway } from "../quotas/deletionMarker.js";
import { isTerminal, JOB_STATUSES, type JobStatus } from "../domain/jobStatus.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { firestorePaths, TRANSIENT_KINDS, TRANSIENT_ROOT, transientTtlMs, type TransientKind, type TransientMetadata } from "../storage/paths.js";
import { NON_USER_COLLECTIONS, userDataLocations, type UserDataLocation } from "./paths.js";
import { objectDeadline } from "./purge.js";
import { transientBucket } from "../storage/transientStore.js";

export const VIOLATIONS = {
  jobFieldsOutsideStatusSet: "job documents with a field outside the status set (jobs/schema.ts)",
  suspiciousValues: "documents holding a long string, base64, a URL or bytes",
  documentsPastRetention: "documents kept past their retention (paths.ts)",
  objectsPastDeadline: "transient objects past their deadline",
  objectsOutsideAllowedPrefixes: "objects outside the allowed prefixes (paths.ts)",
  objectsMissingMetadata: "transient objects without valid { uid, kind, deleteAt } metadata",
  usersWithoutAccount: "users with data (documents or objects) but no Auth account",
  unexpectedCollections: "collections outside the allowed ones (paths.ts)",
} as const;
export type Violation = keyof typeof VIOLATIONS;

export interface AuditReport {
  counts: Record<Violation, number>;
  /** A few offenders per kind, for the operator to look at: document paths, object names, field and collection names. Never values. */
  examples: Record<Violation, string[]>;
  scanned: { collections: number; documents: number; objects: number; users: number };
}

/** The Auth lookup, shaped like firebase-admin's `Auth.getUsers` (at most 100 identifiers a call). */
export type GetUsers = (identifiers: UserIdentifier[]) => Promise<Pick<GetUsersResult, "users" | "notFound">>;

export interface AuditOptions {
  now?: number;
  /** Lateness tolerated before a deadline or retention counts as broken: the purge runs every few minutes. */
  graceMs?: number;
  /** Longest string a document may hold. */
  maxStringChars?: number;
  /** Examples kept per kind. */
  maxExamples?: number;
  pageSize?: number;
  concurrency?: number;
  settings?: Settings;
  bucket?: Bucket;
  /** Defaults to firebase-admin's getUsers (the Auth emulator under FIREBASE_AUTH_EMULATOR_HOST). */
  getUsers?: GetUsers;
}

export const DEFAULT_GRACE_MS = 15 * 60_000;
export const DEFAULT_MAX_STRING_CHARS = 300;
const GET_USERS_BATCH = 100;

/** Stands for the uid in paths.ts templates, to learn where each location puts it. */
export const UID_PLACEHOLDER = "{uid}";

/** A URL of any kind a face could be fetched from (signed, provider, data URL). */
const URL_LIKE = /\b(?:https?|gs|s3|ftp):\/\/|\bdata:[\w.+-]+\/[\w.+-]+[;,]/i;
/** A run of base64 (standard or URL-safe) long enough to be data rather than an id or a hash. */
const BASE64_RUN = /[A-Za-z0-9+/]{100,}|[A-Za-z0-9_-]{100,}/;

/** What the audit reads out of paths.ts: where uids appear, which collections and prefixes are allowed. */
interface AuditPlan {
  allowedCollections: Set<string>;
  /** Collections whose document id is a uid (privacy/{uid}, quotas/{uid}). */
  uidDocCollections: string[];
  /** Collections whose documents name their user in a field (jobs.uid). */
  uidFieldCollections: { collection: string; field: string }[];
  /** Allowed object names: `match[1]` is the uid; `kind` the metadata kind expected. */
  objectPatterns: { pattern: RegExp; kind: string }[];
  retentionRules: { collection: string; field: string; maxAgeMs?: number; onlyTerminalJobs: boolean }[];
}

export function auditPlan(s: Settings = settings(), locations: UserDataLocation[] = userDataLocations(UID_PLACEHOLDER, s)): AuditPlan {
  const plan: AuditPlan = {
    allowedCollections: new Set(Object.keys(NON_USER_COLLECTIONS)),
    uidDocCollections: [],
    uidFieldCollections: [],
    objectPatterns: [],
    retentionRules: [],
  };
  for (const location of locations) {
    if (location.kind === "firestore-doc") {
      const [collection, id, ...rest] = location.path.split("/");
      if (id !== UID_PLACEHOLDER || rest.length || collection.includes(UID_PLACEHOLDER))
        throw new Error(`audit: cannot scan location ${location.id} (${location.path}): only <collection>/<uid> documents`);
      plan.allowedCollections.add(collection);
      plan.uidDocCollections.push(collection);
    } else if (location.kind === "firestore-query") {
      if (location.collection.includes("/"))
        throw new Error(`audit: cannot scan location ${location.id}: ${location.collection} is not a top-level collection`);
      plan.allowedCollections.add(location.collection);
      // Pseudonymous locations (request records under a salted hash) name no uid to look up.
      if (readValue(location) === UID_PLACEHOLDER) plan.uidFieldCollections.push({ collection: location.collection, field: location.field });
      const r = location.retention;
      if (r.rule === "age")
        plan.retentionRules.push({ collection: location.collection, field: r.field, maxAgeMs: r.maxAgeMs, onlyTerminalJobs: r.onlyTerminalJobs });
      if (r.rule === "expiry-field") plan.retentionRules.push({ collection: location.collection, field: r.field, onlyTerminalJobs: false });
    } else if (location.kind === "storage-prefix") {
      const [before, after, ...rest] = location.prefix.split(UID_PLACEHOLDER);
      if (after === undefined || rest.length)
        throw new Error(`audit: cannot scan location ${location.id} (${location.prefix}): the prefix must name the uid once`);
      plan.objectPatterns.push({ pattern: new RegExp(`^${escapeRegExp(before)}([^/]+)${escapeRegExp(after)}(.+)$`, "s"), kind: location.transientKind });
    } else {
      const unknown: never = location;
      throw new Error(`audit: unknown location kind ${(unknown as { kind: string }).kind}`);
    }
  }
  return plan;
}

/** A location's `value` may be computed (a pseudonym needing a secret): unreadable counts as not a uid. */
function readValue(location: { value: string }): string | undefined {
  try {
    return location.value;
  } catch {
    return undefined;
  }
}

export async function auditPrivacy(options: AuditOptions = {}): Promise<AuditReport> {
  const s = options.settings ?? settings();
  const o = {
    now: options.now ?? Date.now(),
    graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
    maxStringChars: options.maxStringChars ?? DEFAULT_MAX_STRING_CHARS,
    maxExamples: options.maxExamples ?? 5,
    pageSize: options.pageSize ?? 500,
    concurrency: options.concurrency ?? 16,
  };
  const plan = auditPlan(s);
  const report: AuditReport = {
    counts: Object.fromEntries(Object.keys(VIOLATIONS).map((k) => [k, 0])) as AuditReport["counts"],
    examples: Object.fromEntries(Object.keys(VIOLATIONS).map((k) => [k, []])) as unknown as AuditReport["examples"],
    scanned: { collections: 0, documents: 0, objects: 0, users: 0 },
  };
  const flag = (kind: Violation, example: string) => {
    report.counts[kind]++;
    if (report.examples[kind].length < o.maxExamples) report.examples[kind].push(example);
  };
  const uidsWithData = new Set<string>();

  await scanFirestore(plan, o, report, flag, uidsWithData);
  await scanObjects(plan, o, s, options.bucket ?? transientBucket(), report, flag, uidsWithData);

  const accountless = await usersWithoutAccount([...uidsWithData], options.getUsers ?? ((ids) => getAuth().getUsers(ids)));
  report.scanned.users = uidsWithData.size;
  for (const uid of accountless) flag("usersWithoutAccount", uid);
  return report;
}

type Flag = (kind: Violation, example: string) => void;
type Limits = { now: number; graceMs: number; maxStringChars: number; pageSize: number; concurrency: number };

async function scanFirestore(plan: AuditPlan, o: Limits, report: AuditReport, flag: Flag, uids: Set<string>): Promise<void> {
  const db = getFirestore();
  const collections = await db.listCollections();
  report.scanned.collections = collections.length;
  for (const collection of collections) {
    if (!plan.allowedCollections.has(collection.id)) {
      flag("unexpectedCollections", collection.id);
      continue;
    }
    const uidField = plan.uidFieldCollections.find((c) => c.collection === collection.id)?.field;
    const retention = plan.retentionRules.filter((r) => r.collection === collection.id);
    let last: QueryDocumentSnapshot | undefined;
    do {
      let query = collection.orderBy(FieldPath.documentId()).limit(o.pageSize);
      if (last) query = query.startAfter(last);
      const page = (await query.get()).docs;
      for (const doc of page) {
        report.scanned.documents++;
        const data = doc.data();
        if (collection.id === firestorePaths.jobs) {
          const extra = Object.keys(data).filter((key) => !(JOB_DOC_FIELDS as string[]).includes(key));
          if (extra.length) flag("jobFieldsOutsideStatusSet", `${doc.ref.path}: ${extra.join(", ")}`);
        }
        const suspicious = suspiciousFields(data, o.maxStringChars);
        if (suspicious.length) flag("suspiciousValues", `${doc.ref.path}: ${suspicious.join(", ")}`);
        if (retention.some((r) => pastRetention(data, r, o))) flag("documentsPastRetention", doc.ref.path);
        if (plan.uidDocCollections.includes(collection.id)) {
          // A deletion underway holds only its marker (onUserDeleted places one right after the
          // account is gone): no data of the user's. A stale one was left by a crash; the purge takes it.
          if (!deletionMarkerSchema.safeParse(data).success) uids.add(doc.id);
          else if (!deletionUnderway(data, o.now - o.graceMs)) flag("documentsPastRetention", doc.ref.path);
        }
        if (uidField && typeof data[uidField] === "string") uids.add(data[uidField]);
      }
      last = page.length === o.pageSize ? page[page.length - 1] : undefined;
    } while (last);
    // No location in paths.ts is a subcollection: any one found (even under a missing document) is unexpected.
    const refs = await collection.listDocuments();
    await mapWithConcurrency(refs, o.concurrency, async (ref: DocumentReference) => {
      for (const sub of await ref.listCollections()) flag("unexpectedCollections", sub.path);
    });
  }
}

/** Field paths whose value could be face data or point at it. */
export function suspiciousFields(value: unknown, maxStringChars: number, path = ""): string[] {
  if (typeof value === "string") {
    return value.length > maxStringChars || URL_LIKE.test(value) || BASE64_RUN.test(value) ? [path || "(value)"] : [];
  }
  if (value instanceof Uint8Array) return [path || "(value)"]; // Firestore Bytes arrive as a Buffer
  if (Array.isArray(value)) return value.flatMap((v, i) => suspiciousFields(v, maxStringChars, `${path}[${i}]`));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).flatMap(([k, v]) => suspiciousFields(v, maxStringChars, path ? `${path}.${k}` : k));
  }
  return []; // numbers, booleans, Timestamps, GeoPoints, references
}

function pastRetention(data: FirebaseFirestore.DocumentData, rule: AuditPlan["retentionRules"][number], o: Limits): boolean {
  const at = data[rule.field] as { toMillis?: () => number } | undefined;
  if (typeof at?.toMillis !== "function") return false; // a missing field is the job schema's business, not retention's
  if (rule.onlyTerminalJobs && !(JOB_STATUSES.includes(data.status) && isTerminal(data.status as JobStatus))) return false;
  const deadline = at.toMillis() + (rule.maxAgeMs ?? 0);
  return deadline + o.graceMs < o.now;
}

async function scanObjects(plan: AuditPlan, o: Limits, s: Settings, bucket: Bucket, report: AuditReport, flag: Flag, uids: Set<string>): Promise<void> {
  let pageToken: string | undefined;
  do {
    const [files, next] = await bucket.getFiles({ autoPaginate: false, maxResults: o.pageSize, ...(pageToken && { pageToken }) });
    pageToken = (next as { pageToken?: string } | undefined)?.pageToken;
    for (const file of files) {
      report.scanned.objects++;
      const allowed = plan.objectPatterns.map((p) => ({ match: p.pattern.exec(file.name), kind: p.kind })).find((p) => p.match);
      if (allowed?.match) {
        uids.add(allowed.match[1]);
        if (!metadataValid(file, allowed.match[1], allowed.kind, s)) flag("objectsMissingMetadata", file.name);
      } else {
        flag("objectsOutsideAllowedPrefixes", file.name);
      }
      // What the purge deletes (everything under transient/) must be gone by its deadline.
      if (file.name.startsWith(TRANSIENT_ROOT) && objectDeadline(file, s) + o.graceMs < o.now) flag("objectsPastDeadline", file.name);
    }
  } while (pageToken);
}

/**
 * `{ uid, kind, deleteAt }` present, well-formed, and agreeing with the object's path, with a
 * `deleteAt` no later than its kind allows after Storage created it (a forged far-off deadline;
 * a minute of slack for the writer's clock against Storage's).
 */
function metadataValid(file: File, pathUid: string, pathKind: string, s: Settings): boolean {
  const meta = (file.metadata.metadata ?? {}) as Partial<Record<keyof TransientMetadata, unknown>>;
  const deleteAt = Number(meta.deleteAt);
  const created = Date.parse(String(file.metadata.timeCreated ?? ""));
  return (
    typeof meta.uid === "string" &&
    meta.uid === pathUid &&
    typeof meta.kind === "string" &&
    (TRANSIENT_KINDS as readonly string[]).includes(meta.kind) &&
    meta.kind === pathKind &&
    Number.isFinite(deleteAt) &&
    deleteAt > 0 &&
    Number.isFinite(created) &&
    deleteAt <= created + transientTtlMs(pathKind as TransientKind, s) + CLOCK_SLACK_MS
  );
}

const CLOCK_SLACK_MS = 60_000;

/** Auth's rule for a uid; anything else cannot have an account (and would fail the whole batch). */
const isPossibleUid = (uid: string) => uid.length > 0 && uid.length <= 128;

/** The uids among `uids` that have no Auth account, looked up 100 at a time. */
export async function usersWithoutAccount(uids: string[], getUsers: GetUsers, concurrency = 4): Promise<string[]> {
  const possible = uids.filter(isPossibleUid);
  const batches: string[][] = [];
  for (let i = 0; i < possible.length; i += GET_USERS_BATCH) batches.push(possible.slice(i, i + GET_USERS_BATCH));
  const found = new Set<string>();
  await mapWithConcurrency(batches, concurrency, async (batch) => {
    const result = await getUsers(batch.map((uid) => ({ uid })));
    for (const user of result.users) found.add(user.uid);
  });
  return uids.filter((uid) => !found.has(uid)).sort();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
