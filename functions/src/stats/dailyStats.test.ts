import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dailyJobStats, dayBefore, dayRange, keyOf, percentile, summariseDurations, utcDay, type StatsJob } from "./dailyStats.js";

const job = (fields: Partial<StatsJob> = {}): StatsJob => ({ feature: "style", provider: "local", status: "succeeded", durationMs: 1_000, ...fields });

describe("daily statistics (pure)", () => {
  test("percentiles are nearest-rank: a duration some job really took", () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(oneToHundred, 50), 50);
    assert.equal(percentile(oneToHundred, 95), 95);
    assert.equal(percentile(oneToHundred, 100), 100);
    assert.equal(percentile([7], 50), 7);
    assert.equal(percentile([7], 95), 7);
    assert.equal(percentile([10, 20], 50), 10);
    assert.equal(percentile([10, 20], 95), 20);
    // 20 values: p95 is the 19th, so one slow outlier of 20 does not set p95.
    const twenty = [...Array.from({ length: 19 }, () => 100), 60_000];
    assert.equal(percentile(twenty, 95), 100);
    assert.equal(percentile([...twenty, 60_000], 95), 60_000, "two of 21 do (rank 20)");
    assert.equal(percentile([], 50), undefined);
  });

  test("summaries sort their input, round to whole ms and are null when empty", () => {
    assert.deepEqual(summariseDurations([300.4, 100, 200.6]), { count: 3, p50: 201, p95: 300, max: 300 });
    assert.deepEqual(summariseDurations([]), { count: 0, p50: null, p95: null, max: null });
  });

  test("jobs are counted by status, feature, provider and error code; durations of succeeded jobs only", () => {
    const stats = dailyJobStats([
      job({ feature: "style", provider: "local", durationMs: 1_000 }),
      job({ feature: "style", provider: "openai", durationMs: 3_000 }),
      job({ feature: "style", provider: "openai", status: "failed", errorCode: "provider-unavailable", durationMs: 50 }),
      job({ feature: "edit", provider: "openai", durationMs: 9_000 }),
      job({ feature: "video", provider: "veo", status: "expired", errorCode: "deadline-exceeded", durationMs: 1_200_000 }),
      job({ feature: "video", provider: "veo", status: "running", durationMs: undefined }),
      job({ feature: "cutout", provider: "local", status: "cancelled", durationMs: 10 }),
      job({ feature: "edit", provider: "bfl", status: "failed", errorCode: "provider-unavailable", durationMs: undefined }),
    ]);
    assert.deepEqual(stats.jobs, {
      total: 8,
      byStatus: { queued: 0, running: 1, succeeded: 3, failed: 2, cancelled: 1, expired: 1 },
      byFeature: {
        style: { total: 3, succeeded: 2, failed: 1 },
        edit: { total: 2, succeeded: 1, failed: 1 },
        video: { total: 2, expired: 1, running: 1 },
        cutout: { total: 1, cancelled: 1 },
      },
      byProvider: {
        local: { total: 2, succeeded: 1, cancelled: 1 },
        openai: { total: 3, succeeded: 2, failed: 1 },
        veo: { total: 2, expired: 1, running: 1 },
        bfl: { total: 1, failed: 1 },
      },
      byErrorCode: { "provider-unavailable": 2, "deadline-exceeded": 1 },
    });
    // Failed, cancelled and expired durations (the deadline, a user's click) would drown the waits.
    assert.deepEqual(stats.durationMs, {
      all: { count: 3, p50: 3_000, p95: 9_000, max: 9_000 },
      byFeature: { style: { count: 2, p50: 1_000, p95: 3_000, max: 3_000 }, edit: { count: 1, p50: 9_000, p95: 9_000, max: 9_000 } },
    });
    assert.deepEqual(stats.fallbacks, { jobs: 0, skipped: 0, byProvider: {}, byCode: {} });
  });

  test("fallbacks: jobs served after a fallback, and each provider skipped with its code", () => {
    const stats = dailyJobStats([
      job({ provider: "bfl", fallbacks: [{ provider: "openai", code: "provider-unavailable" }] }),
      job({
        provider: "local",
        fallbacks: [
          { provider: "openai", code: "provider-unavailable" },
          { provider: "bfl", code: "provider-quota" },
        ],
      }),
      job({ provider: "openai", fallbacks: [] }),
      job({ provider: "openai" }),
    ]);
    assert.deepEqual(stats.fallbacks, {
      jobs: 2,
      skipped: 3,
      byProvider: { openai: 2, bfl: 1 },
      byCode: { "provider-unavailable": 2, "provider-quota": 1 },
    });
  });

  test("an empty day is all zeros with every status present and null durations", () => {
    assert.deepEqual(dailyJobStats([]), {
      jobs: {
        total: 0,
        byStatus: { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0 },
        byFeature: {},
        byProvider: {},
        byErrorCode: {},
      },
      durationMs: { all: { count: 0, p50: null, p95: null, max: null }, byFeature: {} },
      fallbacks: { jobs: 0, skipped: 0, byProvider: {}, byCode: {} },
    });
  });

  test("odd values never become field names, and an unknown status is counted but not invented", () => {
    assert.equal(keyOf("provider-unavailable"), "provider-unavailable");
    for (const odd of ["", "__name__", "a.b", "a/b", "x".repeat(65), "héllo", undefined, 42]) assert.equal(keyOf(odd), "other", String(odd));
    const stats = dailyJobStats([job({ provider: "Some Provider", status: "paused", errorCode: "a.b" })]);
    assert.deepEqual(stats.jobs.byProvider, { other: { total: 1 } });
    assert.equal(stats.jobs.total, 1);
    assert.equal(
      Object.values(stats.jobs.byStatus).reduce((a, b) => a + b),
      0,
    );
    assert.deepEqual(stats.jobs.byErrorCode, { other: 1 });
    assert.equal(stats.durationMs.all.count, 0, "not a succeeded job");
  });

  test("UTC days: ids, ranges and the day before, across month, year and leap-day boundaries", () => {
    assert.equal(utcDay(Date.UTC(2026, 0, 2, 23, 59, 59, 999)), "2026-01-02");
    assert.equal(utcDay(Date.UTC(2026, 0, 3)), "2026-01-03");
    assert.deepEqual(dayRange("2026-01-02"), { startMs: Date.UTC(2026, 0, 2), endMs: Date.UTC(2026, 0, 3) });
    assert.equal(dayBefore(Date.UTC(2026, 0, 1, 0, 30)), "2025-12-31");
    assert.equal(dayBefore(Date.UTC(2028, 2, 1, 1)), "2028-02-29");
    assert.equal(dayBefore(Date.UTC(2026, 0, 10, 12), 7), "2026-01-03");
    for (const bad of ["2026-02-30", "2026-1-2", "2026-01-02T00:00:00Z", "", "../x"]) assert.throws(() => dayRange(bad), /not a UTC day/, bad);
  });
});
