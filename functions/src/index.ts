/**
 * Wires triggers only: every function the project deploys, and nothing else.
 * Client entry points are callables (triggers/https); internal work runs from Cloud Tasks
 * (triggers/tasks), Cloud Scheduler (triggers/scheduled) and Firebase Auth events (triggers/auth).
 */
import { exportsLocalEcho } from "./config/params.js";

export { createJob, getJobResult, ackJobResult, cancelJob } from "./triggers/https/jobs.js";
export { uploadImage } from "./triggers/https/uploadImage.js";
export { pollJob } from "./triggers/tasks/pollJob.js";
export { purgeTransient } from "./triggers/scheduled/purgeTransient.js";
export { dailyStats } from "./triggers/scheduled/dailyStats.js";
export { exportMyData, deleteMyData, setPrivacyChoices } from "./triggers/https/privacy.js";
export { onUserDeleted } from "./triggers/auth/onUserDeleted.js";

// The load harness's baseline callable (docs/LOAD.md), on the local stack only: never deployed.
if (exportsLocalEcho()) {
  Object.assign(module.exports, { echo: (require("./triggers/https/echo.js") as typeof import("./triggers/https/echo.js")).echo });
}
