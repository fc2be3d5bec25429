import assert from "node:assert/strict";
import { test } from "node:test";
import { Timestamp } from "firebase-admin/firestore";
import { DEFAULT_QUOTAS } from "../config/runtimeConfigSchema.js";
import { admit, DAY_MS, HOUR_MS, refusalMessage, type QuotaDoc } from "./policy.js";

const LIMITS = { perFeature: { style: { perHour: 2, perDay: 3 }, video: { perHour: 5, perDay: 20 } }, maxConcurrentJobs: 2 };
const T0 = Date.UTC(2026, 10, 29, 8);
const request = (jobId: string, now: number, feature: "style" | "video" = "style") => ({ feature, jobId, deadlineAt: now + 600_000, now });

/** Admits jobs one after another (each ending at once), returning the final document. */
function admitAll(times: number[], doc?: QuotaDoc): QuotaDoc {
  for (const [i, now] of times.entries()) {
    const decision = admit(doc, request(`job${i}`, now), LIMITS, new Set(Object.keys(doc?.active ?? {})));
    assert.equal(decision.admitted, true, `job ${i} admitted`);
    if (decision.admitted) doc = decision.next;
  }
  return doc!;
}

test("the hourly limit refuses with the time the window ends, then opens again", () => {
  const doc = admitAll([T0, T0 + 60_000]);
  assert.equal(doc.features.style?.hourCount, 2);
  const refused = admit(doc, request("j3", T0 + 120_000), LIMITS, new Set(["job0", "job1"]));
  assert.deepEqual(refused, { admitted: false, reason: "hourly", retryAt: T0 + HOUR_MS });
  const later = admit(doc, request("j3", T0 + HOUR_MS), LIMITS, new Set(["job0", "job1"]));
  assert.equal(later.admitted, true);
  if (later.admitted) assert.equal(later.next.features.style?.hourCount, 1, "a new hour window");
});

test("the daily limit counts across hours and refuses until the day window ends", () => {
  const doc = admitAll([T0, T0 + 1, T0 + HOUR_MS]);
  assert.equal(doc.features.style?.dayCount, 3);
  const refused = admit(doc, request("j4", T0 + 2 * HOUR_MS), LIMITS, new Set(Object.keys(doc.active)));
  assert.deepEqual(refused, { admitted: false, reason: "daily", retryAt: T0 + DAY_MS });
  assert.equal(admit(doc, request("j4", T0 + DAY_MS), LIMITS, new Set(Object.keys(doc.active))).admitted, true);
});

test("features are counted apart", () => {
  const doc = admitAll([T0, T0 + 1]);
  assert.equal(admit(doc, request("v1", T0 + 2, "video"), LIMITS, new Set(Object.keys(doc.active))).admitted, true);
});

test("at the concurrency cap the active jobs are checked first; ended ones free their slot", () => {
  let doc: QuotaDoc | undefined;
  for (const id of ["a", "b"]) {
    const d = admit(doc, request(id, T0, "video"), LIMITS);
    assert.equal(d.admitted, true);
    if (d.admitted) doc = d.next;
  }
  const unchecked = admit(doc, request("c", T0 + 1, "video"), LIMITS);
  assert.deepEqual(unchecked, { admitted: false, reason: "check-active", jobIds: ["a", "b"] });
  const stillRunning = admit(doc, request("c", T0 + 1, "video"), LIMITS, new Set());
  assert.deepEqual(stillRunning, { admitted: false, reason: "concurrent", retryAt: T0 + 1 + 60_000 });
  const oneEnded = admit(doc, request("c", T0 + 1, "video"), LIMITS, new Set(["a"]));
  assert.equal(oneEnded.admitted, true);
  if (oneEnded.admitted) assert.deepEqual(Object.keys(oneEnded.next.active).sort(), ["b", "c"], "the ended job is dropped");
});

test("jobs past their deadline never count as running, without any check", () => {
  const doc: QuotaDoc = {
    features: {},
    active: { old1: Timestamp.fromMillis(T0 - 1), old2: Timestamp.fromMillis(T0) },
    updatedAt: Timestamp.fromMillis(T0 - 10),
  };
  const decision = admit(doc, request("new", T0), LIMITS);
  assert.equal(decision.admitted, true);
  if (decision.admitted) assert.deepEqual(Object.keys(decision.next.active), ["new"]);
});

test("a limit of zero switches a feature off for users; the defaults cover every feature", () => {
  const off = { ...LIMITS, perFeature: { style: { perHour: 0, perDay: 0 } } };
  assert.equal(admit(undefined, request("x", T0), off).admitted, false);
  for (const feature of ["edit", "style", "cutout", "enhance", "video"] as const) {
    assert.ok(DEFAULT_QUOTAS.perFeature[feature]!.perHour > 0, feature);
  }
});

test("the message says what limit and when to retry, in words", () => {
  assert.equal(refusalMessage("hourly", 30), "You have reached the hourly limit for this feature; try again in 30 seconds");
  assert.equal(refusalMessage("daily", 3_600), "You have reached the daily limit for this feature; try again in 60 minutes");
  assert.equal(refusalMessage("concurrent", 60), "You already have the maximum number of jobs running; try again in 1 minute");
});
