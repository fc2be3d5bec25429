/**
 * Every function's instance shape in one table: memory, cpu, concurrency, timeout and maximum
 * instances, declared explicitly (Cloud Functions 2nd gen would otherwise give each instance 80
 * requests at once, whatever its memory holds). The figures come from measured per-job costs:
 * docs/CAPACITY.md shows the arithmetic. Where admins tune them, they are params (config/params.ts),
 * read at deploy time. Concurrency above 1 needs cpu ≥ 1.
 */
import { capacityParams } from "../config/params.js";

export const SHAPES = {
  /**
   * Image jobs decode photos of up to MAX_IMAGE_PIXELS (a 22 MP JPEG peaks at about +90 MB with its
   * request); async providers are polled in-call, so the timeout is long. 2 GiB = idle (~260 MB)
   * + 8 request bodies waiting (≤ 42 MB each) + the admission budget (1,200 MB) + headroom.
   */
  createJob: {
    memory: "2GiB",
    cpu: 1,
    concurrency: capacityParams.createJobConcurrency,
    maxInstances: capacityParams.createJobMaxInstances,
    minInstances: 0,
    timeoutSeconds: 540,
  },
  /** The framework holds each body (≤ 32 MiB) before the handler runs; the handler streams it on. */
  uploadImage: {
    memory: "1GiB",
    cpu: 1,
    concurrency: capacityParams.uploadConcurrency,
    maxInstances: capacityParams.uploadMaxInstances,
    minInstances: 0,
    timeoutSeconds: 300,
  },
  /** getJobResult, ackJobResult, cancelJob, setPrivacyChoices: a few Firestore/Storage calls each. */
  light: { memory: "256MiB", cpu: 1, concurrency: 40, maxInstances: 20, minInstances: 0, timeoutSeconds: 120 },
  /** Builds the whole export in memory: few at once. */
  exportMyData: { memory: "512MiB", cpu: 1, concurrency: 4, maxInstances: 10, minInstances: 0, timeoutSeconds: 300 },
  /** Pages through the user's objects and jobs; memory is the page, not the data. */
  deleteMyData: { memory: "256MiB", cpu: 1, concurrency: 8, maxInstances: 10, minInstances: 0, timeoutSeconds: 540 },
  /**
   * Cloud Tasks dispatches at most 20 polls at once (rateLimits); each streams a video of up to
   * MAX_VIDEO_BYTES without buffering it: 10 per instance, 2 instances, room for 4.
   */
  pollJob: { memory: "512MiB", cpu: 1, concurrency: 10, maxInstances: 4, minInstances: 0, timeoutSeconds: 540 },
  /** Scheduled sweeps: one run at a time, never two instances racing over the same pages. */
  scheduled: { memory: "512MiB", cpu: 1, concurrency: 1, maxInstances: 1, minInstances: 0, timeoutSeconds: 540 },
} as const;
