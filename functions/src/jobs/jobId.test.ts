import assert from "node:assert/strict";
import { test } from "node:test";
import { jobIdFor } from "./jobId.js";
import { jobIdSchema } from "./schema.js";

test("job ids are stable per caller and request, distinct across callers, and reveal neither", () => {
  const a = jobIdFor("alice", "req-1");
  assert.equal(a, jobIdFor("alice", "req-1"));
  assert.notEqual(a, jobIdFor("bob", "req-1"));
  assert.notEqual(a, jobIdFor("alice", "req-2"));
  assert.ok(jobIdSchema.safeParse(a).success);
  assert.ok(!a.includes("alice"));
});
