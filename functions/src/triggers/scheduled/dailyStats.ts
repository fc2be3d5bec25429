/**
 * The admins' daily statistics (`stats/{YYYY-MM-DD}`); the work is in stats/statsStore.ts.
 * Once a day rather than inside the 10-minute purge: each computation reads every job of the day,
 * so once a day costs one read per job, where recomputing on every purge run would cost up to 144.
 * 01:00 UTC is after the longest job deadline (VIDEO_JOB_DEADLINE_MINUTES, 20) plus a purge
 * interval, so yesterday's jobs have all ended; a day a run missed is backfilled by the next.
 */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { SHAPES } from "../shapes.js";

export const dailyStats = onSchedule({ ...SHAPES.scheduled, schedule: "every day 01:00", timeZone: "Etc/UTC", retryCount: 1 }, async () => {
  await (await import("../../stats/statsStore.js")).computeDueDailyStats();
});
