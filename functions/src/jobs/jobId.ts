import { createHash } from "node:crypto";

/**
 * The job id is derived from the caller and their requestId, so a retried or duplicated request
 * lands on the same document and can never start a second job (the idempotency key lives in the id).
 * A hash, so the id reveals neither the uid nor the requestId.
 */
export const jobIdFor = (uid: string, requestId: string) => createHash("sha256").update(`photo-fixer-job\n${uid}\n${requestId}`).digest("hex").slice(0, 40);
