/**
 * `pollJob` (Cloud Tasks): one status call of a video job per task; the work is in
 * jobs/videoJob.ts. Internal only: Cloud Tasks invokes it with an OIDC token, clients cannot.
 */
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { PROVIDER_SECRETS } from "../../providers/catalog.js";
import { SHAPES } from "../shapes.js";

export const pollJob = onTaskDispatched(
  {
    // Cloud Tasks' own retries only cover crashes: handled outcomes (including provider faults)
    // return normally and schedule the next poll themselves.
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 10, maxBackoffSeconds: 300 },
    // Bounds the load on providers' status endpoints (DashScope 20 QPS per account, Veo quotas).
    rateLimits: { maxConcurrentDispatches: 20, maxDispatchesPerSecond: 10 },
    secrets: PROVIDER_SECRETS,
    // Streams up to MAX_VIDEO_BYTES without buffering; memory is for the SDKs, not the video.
    ...SHAPES.pollJob,
  },
  async (request) => {
    const { pollTaskSchema } = await import("../../jobs/pollQueue.js");
    const task = pollTaskSchema.safeParse(request.data);
    if (!task.success) {
      (await import("../../logging/logs.js")).taskRejected("pollJob");
      return; // a malformed task would fail forever: drop it
    }
    await (await import("../../jobs/videoJob.js")).pollVideoJob(task.data);
  },
);
