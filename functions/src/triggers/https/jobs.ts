/** Job entry points (ARCHITECTURE §3): thin wrappers over the jobs service. */
import { PROVIDER_SECRETS } from "../../providers/catalog.js";
import { isEmulator } from "../../config/params.js";
import { userCallable } from "./callable.js";

const parseJobId = async (data: unknown) => (await import("../../jobs/ownerActions.js")).parseJobRef(data);

export const createJob = userCallable(
  "createJob",
  // Sharp decodes photos of up to MAX_IMAGE_PIXELS in memory; async providers are polled in-call.
  // Provider keys are bound here and nowhere else: only createJob talks to providers.
  // Replay protection where a call costs money: each createJob consumes its (limited-use) App
  // Check token, so a captured token cannot be replayed to run paid provider calls.
  { memory: "1GiB", timeoutSeconds: 540, secrets: PROVIDER_SECRETS, consumeAppCheckToken: !isEmulator() },
  async (uid, data) => (await import("../../jobs/createJob.js")).createJob(uid, data),
);

export const getJobResult = userCallable("getJobResult", {}, async (uid, data) =>
  (await import("../../jobs/ownerActions.js")).getJobResult(uid, await parseJobId(data)),
);

export const ackJobResult = userCallable("ackJobResult", {}, async (uid, data) =>
  (await import("../../jobs/ownerActions.js")).ackJobResult(uid, await parseJobId(data)),
);

export const cancelJob = userCallable("cancelJob", {}, async (uid, data) =>
  (await import("../../jobs/ownerActions.js")).cancelJob(uid, await parseJobId(data)),
);
