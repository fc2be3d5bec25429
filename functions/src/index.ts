/**
 * Wires triggers only: every function the project deploys, and nothing else.
 * Client entry points are callables (triggers/https); internal work is scheduled (triggers/scheduled).
 */
export { createJob, getJobResult, ackJobResult, cancelJob } from "./triggers/https/jobs.js";
export { purgeTransient } from "./triggers/scheduled/purgeTransient.js";
