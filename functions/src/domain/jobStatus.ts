/** The states of a job (ARCHITECTURE §4), read by jobs, privacy, stats and the client contract. */
export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "expired"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled", "expired"];
export const isTerminal = (status: JobStatus) => TERMINAL_STATUSES.includes(status);
