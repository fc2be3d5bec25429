import assert from "node:assert/strict";
import { test } from "node:test";
import { objectDeadline } from "./purge.js";

test("an object's deadline is its deleteAt, else its age past the longest TTL, else now", () => {
  const ttl = 60_000;
  assert.equal(objectDeadline({ metadata: { metadata: { deleteAt: "5000" } } }, ttl), 5_000);
  assert.equal(objectDeadline({ metadata: { timeCreated: new Date(1_000).toISOString() } }, ttl), 61_000);
  assert.equal(objectDeadline({ metadata: { metadata: { deleteAt: "garbage" }, timeCreated: new Date(0).toISOString() } }, ttl), 60_000);
  assert.equal(objectDeadline({ metadata: {} }, ttl), 0, "an object of unknown age is purged");
});
