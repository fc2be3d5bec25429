/** The scheduled backstop purge (ARCHITECTURE §5.7); the work is in privacy/purge.ts. */
import { onSchedule } from "firebase-functions/v2/scheduler";
import { PURGE_SCHEDULE } from "../../config/params.js";

export const purgeTransient = onSchedule(
  { schedule: PURGE_SCHEDULE, timeoutSeconds: 540, memory: "512MiB", retryCount: 1 },
  async () => {
    await (await import("../../privacy/purge.js")).purgeTransient();
  },
);
