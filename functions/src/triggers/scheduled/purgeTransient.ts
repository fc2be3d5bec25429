/** The scheduled backstop purge (ARCHITECTURE §5.7); the work is in privacy/purge.ts. */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { PURGE_SCHEDULE } from "../../config/params.js";
import { SHAPES } from "../shapes.js";

export const purgeTransient = onSchedule({ ...SHAPES.scheduled, schedule: PURGE_SCHEDULE, retryCount: 1 }, async () => {
  await (await import("../../privacy/purge.js")).purgeTransient();
});
