/**
 * Status calls per video job for a scripted 3-minute generation, with the pipeline's default poll
 * schedule (VIDEO.md: first at ~15 s, then 10 → 15 → 20 → 30 s), against a naive fixed 5 s
 * schedule (Runway's minimum interval) as the baseline.
 */
import { pollDelayMs, videoPolling } from "../functions/src/jobs/videoJob.js";
import type { VideoProvider } from "../functions/src/providers/types.js";

export function measureVideoPolls(generationMs = 180_000) {
  const provider = { polling: undefined } as unknown as VideoProvider;
  const policy = videoPolling(provider, undefined, {});
  // Each poll lands at the sum of the delays so far (jitter at its mean); the job is done at the
  // first poll at or after the generation's end.
  const count = (delay: (attempt: number) => number) => {
    let t = 0;
    let polls = 0;
    while (t < generationMs) t += delay(++polls);
    return { polls, overshootMs: t - generationMs };
  };
  const ours = count((attempt) => pollDelayMs(policy, attempt, () => 0.5));
  const naive = count(() => 5_000);
  return {
    name: "status calls for a 3-minute video (ours vs fixed 5 s polling)",
    detail: `${ours.polls} polls, result seen ${(ours.overshootMs / 1000).toFixed(0)} s after it was ready; fixed 5 s: ${naive.polls} polls`,
    ratio: ours.polls / naive.polls,
    ok: ours.polls <= 12 && ours.overshootMs <= 30_000,
    budget: "≤ 12 polls, result seen within one 30 s interval",
  };
}
