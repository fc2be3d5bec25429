/**
 * Black Forest Labs FLUX API shapes (shared/providers/bfl-kontext.md) and the pure mapping of its
 * poll statuses onto our outcomes. No network here.
 */
import { z } from "zod";
import type { Outcome } from "../types.js";

export const submitResponseSchema = z.object({ id: z.string().min(1), polling_url: z.string().url() });

export const pollResponseSchema = z.object({
  id: z.string().optional(),
  status: z.string(),
  progress: z.number().nullish(),
  result: z.object({ sample: z.string().url() }).passthrough().nullish(),
});

export type PollResponse = z.infer<typeof pollResponseSchema>;

/** Maps BFL's status (exact spellings) onto an outcome; an unknown status is permanent. */
export function outcomeOf(poll: PollResponse): Outcome {
  switch (poll.status) {
    case "Pending":
      return { state: "running", ...(poll.progress != null && { progress: Math.round(poll.progress * 100) }) };
    case "Ready":
      if (!poll.result?.sample) return failed("permanent", "Black Forest Labs reported success without an image.", "no-result");
      return { state: "succeeded", images: [{ url: poll.result.sample, mime: "image/jpeg" }] };
    case "Request Moderated":
      return failed("policy_rejected", "Black Forest Labs declined this photo or instruction under its content policy.", poll.status);
    case "Content Moderated":
      return failed("policy_rejected", "Black Forest Labs declined to return the generated image under its content policy.", poll.status);
    case "Error":
    case "Failed": // not in BFL's table, but seen by other clients for the same generation failure
      return failed("retryable", "Black Forest Labs failed to generate the image; try again.", poll.status);
    case "Task not found":
      return failed("permanent", "Black Forest Labs no longer knows this task.", poll.status);
    default:
      return failed("permanent", "Black Forest Labs reported an unknown task status.", "unknown-status");
  }
}

const failed = (kind: "permanent" | "policy_rejected" | "retryable", message: string, providerCode: string): Outcome => ({
  state: "failed",
  error: { kind, message, providerCode },
});
