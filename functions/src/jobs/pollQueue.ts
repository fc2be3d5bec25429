/**
 * The Cloud Tasks queue behind `pollJob`: one task per status call. Task ids are derived from the
 * job and the attempt, so a duplicate enqueue of the same poll is dropped by Cloud Tasks itself.
 */
import "../admin.js";
import { getFunctions } from "firebase-admin/functions";
import { z } from "zod";
import { dependency } from "../util/dependencies.js";
import { jobIdSchema } from "./schema.js";

export const pollTaskSchema = z.strictObject({
  jobId: jobIdSchema,
  attempt: z.number().int().min(1).max(10_000),
  /** A video job waiting for a provider slot: try to start it (jobs/providerLimits.ts), not poll it. */
  start: z.literal(true).optional(),
});
export type PollTask = z.infer<typeof pollTaskSchema>;

export type PollEnqueuer = (task: PollTask, delayMs: number) => Promise<void>;

const cloudTasks: PollEnqueuer = async (task, delayMs) => {
  try {
    await getFunctions()
      .taskQueue<PollTask>("pollJob")
      .enqueue(task, {
        id: `${task.jobId}-${task.start ? "start" : "poll"}-${task.attempt}`,
        scheduleDelaySeconds: Math.ceil(delayMs / 1000),
        dispatchDeadlineSeconds: 300,
      });
  } catch (error) {
    if ((error as { code?: string }).code === "functions/task-already-exists") return; // a duplicate: fine
    throw error;
  }
};

/** In-process tests drive polls themselves (util/dependencies.ts). */
export const pollEnqueuer = dependency<PollEnqueuer>("pollEnqueuer", cloudTasks);

export const enqueuePoll: PollEnqueuer = (task, delayMs) => pollEnqueuer.get()(task, delayMs);
