import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyLocal } from "./classify.js";

const texts = { cancelled: "cancelled", failed: "The local provider failed.", failedCode: "local-failed" };

test("a local job whose Storage or Firestore call failed transiently is retryable, not provider-rejected", () => {
  const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
  const storage503 = Object.assign(new Error("Service Unavailable"), { code: 503 });
  const grpcUnavailable = Object.assign(new Error("14 UNAVAILABLE"), { code: 14 });
  for (const error of [refused, storage503, grpcUnavailable]) {
    const classified = classifyLocal(error, texts);
    assert.equal(classified.kind, "retryable", error.message);
    assert.equal(classified.providerCode, "backend-unavailable");
    assert.equal(classified.message, texts.failed, "the backend's own text is kept out");
  }
});

test("any other local failure stays permanent", () => {
  assert.equal(classifyLocal(new Error("boom"), texts).kind, "permanent");
  assert.equal(classifyLocal(Object.assign(new Error("not found"), { code: 404 }), texts).kind, "permanent");
});
