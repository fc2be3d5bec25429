import assert from "node:assert/strict";
import { test } from "node:test";
import { receiptOf } from "./receipt.js";
import type { JobDoc } from "./schema.js";
import * as state from "./state.js";

const T0 = Date.parse("2026-11-02T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const queued = (feature: JobDoc["feature"], provider = "local", model = "local-effects-1") =>
  state.queuedJob({ uid: "u1", requestId: "r", feature, provider, model, now: T0, deadlineMs: 600_000 });

test("an image job: the provider that got the photo, input gone when the job ended, result never stored", () => {
  const job: JobDoc = { ...queued("style"), ...state.started(T0, 1), ...state.succeededInline(T0 + 1_500, T0) };
  const receipt = receiptOf(job);
  assert.deepEqual(receipt, {
    provider: "local",
    providerName: "Photo Fixer (on our servers)",
    model: "local-effects-1",
    providerRetention: receipt.providerRetention,
    inputDeleted: true,
    inputDeletedAt: iso(T0 + 1_500),
    resultDeleted: true,
    statusKeptUntil: job.retainUntil!.toDate().toISOString(),
  });
  assert.match(receipt.providerRetention, /nothing is kept/);
  assert.ok(job.retainUntil!.toMillis() > T0 + 29 * 86_400_000, "the status document is kept for its retention, not forever");
});

test("a running job has not yet deleted its input; a failed one has, at its end", () => {
  const running: JobDoc = { ...queued("edit"), ...state.started(T0, 1) };
  assert.equal(receiptOf(running).inputDeleted, false);
  assert.equal(receiptOf(running).inputDeletedAt, undefined);
  const failed: JobDoc = { ...running, ...state.failed(T0 + 900, { code: "provider-unavailable", message: "down" }, T0) };
  assert.equal(receiptOf(failed).inputDeletedAt, iso(T0 + 900));
  assert.equal(receiptOf(failed).resultDeleted, true);
});

test("a video job: input gone when the provider took the task, result held until it expires, then not", () => {
  const started: JobDoc = { ...queued("video", "local", "local-video-1"), ...state.videoStarted(T0 + 200, "task-1") };
  assert.deepEqual(
    { inputDeleted: receiptOf(started).inputDeleted, at: receiptOf(started).inputDeletedAt, resultDeleted: receiptOf(started).resultDeleted },
    { inputDeleted: true, at: iso(T0 + 200), resultDeleted: true },
  );
  const polled: JobDoc = { ...started, ...state.polled(T0 + 5_000, 1, 40) };
  assert.equal(receiptOf(polled).inputDeletedAt, iso(T0 + 200), "a poll does not move the deletion time");
  const held: JobDoc = { ...polled, ...state.succeededHeld(T0 + 9_000, T0 + 200, T0 + 9_000 + 3_600_000) };
  assert.equal(receiptOf(held).inputDeletedAt, iso(T0 + 200), "the end of the job does not move it either");
  assert.equal(receiptOf(held).resultDeleted, false);
  assert.equal(receiptOf(held).resultHeldUntil, iso(T0 + 9_000 + 3_600_000));
  const acknowledged: JobDoc = { ...held, resultDeleted: true };
  assert.equal(receiptOf(acknowledged).resultDeleted, true);
  assert.equal(receiptOf(acknowledged).resultHeldUntil, undefined);
});

test("a video job cancelled before any provider had it records the deletion at its end", () => {
  const cancelled: JobDoc = { ...queued("video"), ...state.cancelled(T0 + 300) };
  assert.equal(receiptOf(cancelled).inputDeletedAt, iso(T0 + 300));
});

test("providers skipped by automatic fallback are named: they may have received the photo too", () => {
  const job: JobDoc = {
    ...queued("style", "bfl", "flux-2-pro"),
    ...state.succeededInline(T0 + 2_000, T0),
    fallbacks: [{ provider: "openai", code: "provider-unavailable" }],
  };
  const receipt = receiptOf(job);
  assert.equal(receipt.providerName, "Black Forest Labs FLUX");
  assert.deepEqual(receipt.fallbacks, [{ provider: "openai", code: "provider-unavailable" }]);
  assert.equal(receiptOf({ ...job, fallbacks: undefined }).fallbacks, undefined);
});

test("the receipt holds no URL, no prompt and no image: only names, codes and times", () => {
  const job: JobDoc = { ...queued("video"), ...state.videoStarted(T0, "task-secret-id"), ...state.succeededHeld(T0 + 1, T0, T0 + 60_000) };
  const text = JSON.stringify(receiptOf(job));
  assert.doesNotMatch(text, /https?:|task-secret-id|u1/);
});
