import assert from "node:assert/strict";
import { test } from "node:test";
import { checkBucket, TRANSIENT_LIFECYCLE, type BucketMetadata } from "./bucketPolicy.js";

/** A bucket as the JSON API reports it after the deploy steps in docs/DEPLOYING.md (int64 fields as strings). */
const compliant = (): BucketMetadata => ({
  name: "photo-fixer.firebasestorage.app",
  softDeletePolicy: { retentionDurationSeconds: "0" },
  lifecycle: structuredClone(TRANSIENT_LIFECYCLE),
  iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: "enforced" },
  versioning: { enabled: false },
});

function failing(bucket: BucketMetadata): string[] {
  return checkBucket(bucket)
    .filter((c) => !c.pass)
    .map((c) => c.name);
}

test("a bucket set up by the deploy steps passes every check", () => {
  const checks = checkBucket(compliant());
  assert.equal(checks.length, 6);
  assert.deepEqual(failing(compliant()), []);
  for (const c of checks) assert.ok(c.detail.length > 0);
});

test("soft delete: the 7-day default, any other duration, or no policy at all fails", () => {
  for (const policy of [{ retentionDurationSeconds: "604800" }, { retentionDurationSeconds: 1 }, {}, undefined]) {
    const bucket = { ...compliant(), softDeletePolicy: policy };
    assert.deepEqual(failing(bucket), ["soft delete disabled"], JSON.stringify(policy));
    assert.equal(checkBucket(bucket).find((c) => !c.pass)?.fix, "--clear-soft-delete");
  }
  const week = checkBucket({ ...compliant(), softDeletePolicy: { retentionDurationSeconds: "604800" } })[0];
  assert.match(week.detail, /604800 s \(7 days\)/);
  assert.deepEqual(failing({ ...compliant(), softDeletePolicy: { retentionDurationSeconds: 0 } }), [], "a number 0 is fine too");
});

test("lifecycle: only a Delete at age <= 1 day that reaches every object under transient/ passes", () => {
  const rule = (action: string, condition: Record<string, unknown>) => ({ lifecycle: { rule: [{ action: { type: action }, condition }] } });
  const passes = [
    rule("Delete", { age: 1, matchesPrefix: ["transient/"] }),
    rule("Delete", { age: 0, matchesPrefix: ["other/", "transient/"] }),
    rule("Delete", { age: 1, matchesPrefix: ["trans"] }), // a shorter prefix still covers transient/
    rule("Delete", { age: 1 }), // every object in the bucket
    rule("Delete", { age: 1, matchesPrefix: [], isLive: true }),
  ];
  for (const extra of passes) assert.deepEqual(failing({ ...compliant(), ...extra }), [], JSON.stringify(extra));

  const lifecycleName = "lifecycle deletes transient/ at age <= 1 day";
  const fails = [
    { lifecycle: undefined },
    { lifecycle: { rule: [] } },
    rule("Delete", { age: 2, matchesPrefix: ["transient/"] }), // too slow
    rule("Delete", { age: 30 }),
    rule("SetStorageClass", { age: 1, matchesPrefix: ["transient/"] }), // not a delete
    rule("Delete", { age: 1, matchesPrefix: ["transient/uploads/"] }), // misses inputs and results
    rule("Delete", { age: 1, matchesPrefix: ["uploads/"] }),
    rule("Delete", { age: 1, matchesPrefix: "transient/" }), // malformed: not a list
    rule("Delete", { matchesPrefix: ["transient/"] }), // no age condition
    rule("Delete", { age: "1", matchesPrefix: ["transient/"] }),
    rule("Delete", { age: 1, matchesPrefix: ["transient/"], matchesSuffix: [".jpg"] }), // narrowed
    rule("Delete", { age: 1, matchesPrefix: ["transient/"], isLive: false }), // noncurrent versions only
    rule("Delete", { age: 1, matchesPrefix: ["transient/"], createdBefore: "2020-01-01" }),
  ];
  for (const extra of fails) {
    const checks = checkBucket({ ...compliant(), ...extra });
    assert.deepEqual(failing({ ...compliant(), ...extra }), [lifecycleName], JSON.stringify(extra));
    assert.equal(checks.find((c) => !c.pass)?.fix, "--lifecycle-file=transient-lifecycle.json");
  }
});

test("uniform bucket-level access off fails", () => {
  for (const iam of [{ uniformBucketLevelAccess: { enabled: false }, publicAccessPrevention: "enforced" }, { publicAccessPrevention: "enforced" }]) {
    assert.deepEqual(failing({ ...compliant(), iamConfiguration: iam }), ["uniform bucket-level access"]);
  }
});

test("public access prevention not enforced on the bucket fails, inherited included", () => {
  for (const pap of ["inherited", "unspecified", undefined]) {
    const bucket = { ...compliant(), iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: pap } };
    assert.deepEqual(failing(bucket), ["public access prevention enforced"], String(pap));
    assert.equal(checkBucket(bucket).find((c) => !c.pass)?.fix, "--public-access-prevention");
  }
});

test("versioning, a retention policy or a default hold keeps deleted objects: each fails", () => {
  assert.deepEqual(failing({ ...compliant(), versioning: { enabled: true } }), ["object versioning off"]);
  assert.deepEqual(failing({ ...compliant(), retentionPolicy: { retentionPeriod: "86400" } }), ["no retention policy or default hold"]);
  assert.deepEqual(failing({ ...compliant(), defaultEventBasedHold: true }), ["no retention policy or default hold"]);
  assert.deepEqual(failing({ ...compliant(), retentionPolicy: { retentionPeriod: "0" }, versioning: undefined }), []);
});

test("a bucket never configured fails soft delete, lifecycle, uniform access and public access prevention", () => {
  assert.deepEqual(failing({ name: "b", softDeletePolicy: { retentionDurationSeconds: "604800" } }), [
    "soft delete disabled",
    "lifecycle deletes transient/ at age <= 1 day",
    "uniform bucket-level access",
    "public access prevention enforced",
  ]);
});
