/**
 * What the bucket holding `transient/` must be for "deleted" to mean deleted (ARCHITECTURE §5.6):
 * checks over the bucket's Cloud Storage JSON API resource (`GET storage/v1/b/<bucket>`), pure so
 * they are tested without a bucket. `npm run verify:bucket` (scripts/verify-bucket.ts) reads the
 * resource with credentials, prints these and, on failure, the deploy step that fixes it.
 */
import { TRANSIENT_ROOT } from "../storage/paths.js";

/** The lifecycle rule is a backstop with a granularity of a day: anything slower is no backstop. */
export const MAX_LIFECYCLE_AGE_DAYS = 1;

/** The parts of the JSON API bucket resource the checks read (int64 fields arrive as strings). */
export interface BucketMetadata {
  name?: string;
  softDeletePolicy?: { retentionDurationSeconds?: string | number };
  lifecycle?: { rule?: LifecycleRule[] };
  iamConfiguration?: { uniformBucketLevelAccess?: { enabled?: boolean }; publicAccessPrevention?: string };
  versioning?: { enabled?: boolean };
  retentionPolicy?: { retentionPeriod?: string | number };
  defaultEventBasedHold?: boolean;
}

export interface LifecycleRule {
  action?: { type?: string };
  condition?: Record<string, unknown>;
}

export interface BucketCheck {
  name: string;
  pass: boolean;
  /** What was found: settings only, never object names. */
  detail: string;
  /** On failure: the `gcloud storage buckets update` flag that fixes it. */
  fix?: string;
}

/** The lifecycle configuration the deploy steps set (`--lifecycle-file=transient-lifecycle.json`); the check accepts it. */
export const TRANSIENT_LIFECYCLE = {
  rule: [{ action: { type: "Delete" }, condition: { age: MAX_LIFECYCLE_AGE_DAYS, matchesPrefix: [TRANSIENT_ROOT] } }],
};

export function checkBucket(bucket: BucketMetadata): BucketCheck[] {
  return [
    softDeleteDisabled(bucket),
    transientLifecycleRule(bucket),
    uniformAccess(bucket),
    publicAccessPrevented(bucket),
    versioningOff(bucket),
    nothingHeld(bucket),
  ];
}

function softDeleteDisabled(bucket: BucketMetadata): BucketCheck {
  const name = "soft delete disabled";
  const raw = bucket.softDeletePolicy?.retentionDurationSeconds;
  if (raw === undefined)
    return { name, pass: false, detail: "no softDeletePolicy reported; Cloud Storage's default keeps deleted objects 7 days", fix: "--clear-soft-delete" };
  const seconds = Number(raw);
  if (seconds === 0) return { name, pass: true, detail: "retentionDurationSeconds = 0" };
  const days = Number.isFinite(seconds) ? ` (${+(seconds / 86_400).toFixed(2)} days)` : "";
  return { name, pass: false, detail: `deleted objects stay restorable for ${raw} s${days}`, fix: "--clear-soft-delete" };
}

/** A rule narrowed by any condition but age and prefix would leave some transient objects alone. */
const RULE_CONDITIONS_COVERING_ALL = new Set(["age", "matchesPrefix"]);

function transientLifecycleRule(bucket: BucketMetadata): BucketCheck {
  const name = `lifecycle deletes ${TRANSIENT_ROOT} at age <= ${MAX_LIFECYCLE_AGE_DAYS} day`;
  const rules = bucket.lifecycle?.rule ?? [];
  const matching = rules.find((rule) => {
    const condition = rule.condition ?? {};
    const age = condition.age;
    return (
      rule.action?.type === "Delete" &&
      typeof age === "number" &&
      age >= 0 &&
      age <= MAX_LIFECYCLE_AGE_DAYS &&
      prefixesCover(condition.matchesPrefix, TRANSIENT_ROOT) &&
      Object.entries(condition).every(([key, value]) => RULE_CONDITIONS_COVERING_ALL.has(key) || (key === "isLive" && value === true))
    );
  });
  if (matching) return { name, pass: true, detail: `rule ${JSON.stringify(matching)}` };
  const found = rules.length
    ? `${rules.length} rule(s), none a Delete at age <= ${MAX_LIFECYCLE_AGE_DAYS} covering every object under ${TRANSIENT_ROOT}`
    : "no lifecycle rule";
  return { name, pass: false, detail: found, fix: "--lifecycle-file=transient-lifecycle.json" };
}

/** No `matchesPrefix` (or an empty list) matches every object; otherwise one prefix must contain `root`. */
function prefixesCover(prefixes: unknown, root: string): boolean {
  if (prefixes === undefined) return true;
  if (!Array.isArray(prefixes)) return false;
  return prefixes.length === 0 || prefixes.some((p) => typeof p === "string" && root.startsWith(p));
}

function uniformAccess(bucket: BucketMetadata): BucketCheck {
  const name = "uniform bucket-level access";
  return bucket.iamConfiguration?.uniformBucketLevelAccess?.enabled === true
    ? { name, pass: true, detail: "enabled: IAM only, no object ACLs" }
    : { name, pass: false, detail: "disabled: object ACLs could make an object public", fix: "--uniform-bucket-level-access" };
}

function publicAccessPrevented(bucket: BucketMetadata): BucketCheck {
  const name = "public access prevention enforced";
  const value = bucket.iamConfiguration?.publicAccessPrevention;
  return value === "enforced"
    ? { name, pass: true, detail: "enforced" }
    : {
        name,
        pass: false,
        detail: value === "inherited" ? "inherited: public access depends on the organisation policy" : `${value ?? "not reported"}`,
        fix: "--public-access-prevention",
      };
}

function versioningOff(bucket: BucketMetadata): BucketCheck {
  const name = "object versioning off";
  return bucket.versioning?.enabled === true
    ? { name, pass: false, detail: "enabled: a delete keeps a noncurrent copy of the object", fix: "--no-versioning" }
    : { name, pass: true, detail: "disabled" };
}

function nothingHeld(bucket: BucketMetadata): BucketCheck {
  const name = "no retention policy or default hold";
  const period = Number(bucket.retentionPolicy?.retentionPeriod ?? 0);
  if (period > 0) return { name, pass: false, detail: `a retention policy of ${period} s refuses every delete before then`, fix: "--clear-retention-period" };
  if (bucket.defaultEventBasedHold === true)
    return { name, pass: false, detail: "default event-based hold: new objects cannot be deleted until released", fix: "--no-default-event-based-hold" };
  return { name, pass: true, detail: "none" };
}
