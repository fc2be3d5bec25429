/** Records of privacy requests: a pseudonym instead of the uid, 24 months, nothing else stored. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Timestamp } from "firebase-admin/firestore";
import { privacyRequestDocSchema, recordExpiry } from "./requestRecords.js";
import { requestSubjectOf } from "./salt.js";

test("the subject is an HMAC of the uid under the salt: stable, distinct per uid and per salt, not the uid", () => {
  const a = requestSubjectOf("alice-uid");
  assert.match(a, /^[a-f0-9]{64}$/);
  assert.equal(requestSubjectOf("alice-uid"), a);
  assert.notEqual(requestSubjectOf("bob-uid"), a);
  assert.ok(!a.includes("alice"));
  process.env.PRIVACY_RECORD_SALT = "another-salt";
  try {
    assert.notEqual(requestSubjectOf("alice-uid"), a, "the salt is what links a record to a uid");
  } finally {
    delete process.env.PRIVACY_RECORD_SALT;
  }
});

test("records expire 24 calendar months after the request", () => {
  assert.equal(new Date(recordExpiry(Date.UTC(2026, 10, 29, 12))).toISOString(), "2028-11-29T12:00:00.000Z");
  assert.equal(new Date(recordExpiry(Date.UTC(2026, 0, 31))).toISOString(), "2028-01-31T00:00:00.000Z");
});

test("a record holds the listed fields only: no uid, no free text", () => {
  const now = Timestamp.now();
  const record = { subject: "a".repeat(64), type: "delete", channel: "app", requestedAt: now, respondedAt: now, outcome: "fulfilled", expireAt: now };
  assert.equal(privacyRequestDocSchema.safeParse(record).success, true);
  assert.equal(privacyRequestDocSchema.safeParse({ ...record, uid: "alice" }).success, false);
  assert.equal(privacyRequestDocSchema.safeParse({ ...record, subject: "alice" }).success, false);
  assert.equal(privacyRequestDocSchema.safeParse({ ...record, type: "export everything" }).success, false);
  assert.equal(privacyRequestDocSchema.safeParse({ ...record, failureCode: "x".repeat(41) }).success, false);
});
