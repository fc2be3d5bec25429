import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSERVATIVE, perInstanceShare } from "../config/providerLimits.js";
import { providerLimitsFor } from "./limits.js";

test("a provider with no stated limit: no default cap on image calls, CONSERVATIVE on video tasks", () => {
  for (const id of ["openai", "gemini", "seedream", "picwish", "cutoutpro"]) assert.deepEqual(providerLimitsFor(id, {}, "image"), {}, id);
  assert.deepEqual(providerLimitsFor("seedance", {}, "video"), CONSERVATIVE);
  assert.deepEqual(providerLimitsFor("seedance", { seedance: { maxConcurrent: 3 } }, "video"), { maxConcurrent: 3, requestsPerMinute: 60 });
});

test("an admin's override caps a provider's image calls with no stated limit, field by field; 0 lifts a cap", () => {
  assert.deepEqual(providerLimitsFor("openai", { openai: { maxConcurrent: 300 } }, "image"), { maxConcurrent: 300 });
  assert.deepEqual(perInstanceShare(providerLimitsFor("openai", { openai: { maxConcurrent: 300, requestsPerMinute: 3000 } }, "image"), 150), {
    maxConcurrent: 2,
    requestsPerMinute: 20,
  });
  assert.deepEqual(providerLimitsFor("openai", { openai: { maxConcurrent: 0 } }, "image"), {});
});

test("a stated limit applies to both paths, and each instance keeps its share of it for images", () => {
  for (const path of ["image", "video"] as const) assert.deepEqual(providerLimitsFor("bfl", {}, path), { maxConcurrent: 24, requestsPerMinute: 60 });
  assert.deepEqual(perInstanceShare(providerLimitsFor("bfl", {}, "image"), 4), { maxConcurrent: 6, requestsPerMinute: 15 });
  assert.deepEqual(perInstanceShare(providerLimitsFor("bfl", {}, "image"), 150), { maxConcurrent: 1, requestsPerMinute: 1 }, "the floor of 1");
  assert.deepEqual(providerLimitsFor("local", {}, "video"), {}, "local states none");
});
