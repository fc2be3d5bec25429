import assert from "node:assert/strict";
import { test } from "node:test";
import { settings } from "../config/params.js";
import { objectDeadline } from "./purge.js";

const MINUTE = 60_000;
const s = { ...settings(), uploadTtlMinutes: 1, resultTtlMinutes: 2, imageJobDeadlineMinutes: 3, videoJobDeadlineMinutes: 4 };
const created = (ms: number) => new Date(ms).toISOString();

test("an object's deadline is its deleteAt when earlier than its kind's TTL after creation", () => {
  const upload = { name: "transient/uploads/u/x", metadata: { timeCreated: created(0), metadata: { deleteAt: "5000" } } };
  assert.equal(objectDeadline(upload, s), 5_000);
});

test("a forged deleteAt never outlives creation plus the longest TTL of the object's kind", () => {
  const forever = String(Date.UTC(2100, 0, 1));
  const at = (name: string) => objectDeadline({ name, metadata: { timeCreated: created(1_000), metadata: { deleteAt: forever } } }, s);
  assert.equal(at("transient/uploads/u/x"), 1_000 + 1 * MINUTE, "uploads: UPLOAD_TTL_MINUTES");
  assert.equal(at("transient/results/u/job"), 1_000 + 2 * MINUTE, "results: RESULT_TTL_MINUTES");
  assert.equal(at("transient/inputs/u/job"), 1_000 + 4 * MINUTE, "inputs: the longest job deadline");
  assert.equal(at("transient/elsewhere/x"), 1_000 + 4 * MINUTE, "an unknown kind: the longest TTL of all");
});

test("missing or garbage metadata: creation plus the kind's TTL; unknown age: now", () => {
  assert.equal(objectDeadline({ name: "transient/uploads/u/x", metadata: { timeCreated: created(1_000) } }, s), 61_000);
  assert.equal(objectDeadline({ name: "transient/uploads/u/x", metadata: { metadata: { deleteAt: "garbage" }, timeCreated: created(0) } }, s), 60_000);
  assert.equal(
    objectDeadline({ name: "transient/uploads/u/x", metadata: { metadata: { deleteAt: "99999999999999" } } }, s),
    0,
    "an object of unknown age is purged",
  );
});
