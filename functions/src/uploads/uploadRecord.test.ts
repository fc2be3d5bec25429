import assert from "node:assert/strict";
import { test } from "node:test";
import { isTakeableUpload, uploadMetadata } from "./uploadRecord.js";

const s = { uploadTtlMinutes: 30 };
const now = 1_000_000_000_000;

test("only uploadImage's own upload for this user, within UPLOAD_TTL_MINUTES of Storage's creation time, is takeable", () => {
  const metadata = uploadMetadata("alice", now + 60_000);
  assert.equal(isTakeableUpload({ metadata, createdAt: now - 60_000 }, "alice", now, s), true);
  assert.equal(isTakeableUpload({ metadata, createdAt: now - 30 * 60_000 }, "alice", now, s), false, "past its TTL by creation time, whatever deleteAt says");
  assert.equal(isTakeableUpload({ metadata }, "alice", now, s), false, "no creation time: not takeable");
  assert.equal(isTakeableUpload({ metadata, createdAt: now }, "bob", now, s), false, "another user's");
  assert.equal(isTakeableUpload({ metadata: { ...metadata, writer: undefined }, createdAt: now }, "alice", now, s), false, "no writer marker");
  assert.equal(isTakeableUpload({ metadata: { ...metadata, kind: "results" }, createdAt: now }, "alice", now, s), false, "another kind");
});
