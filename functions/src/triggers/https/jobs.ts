/** Job entry points (ARCHITECTURE §3): thin wrappers over the jobs service. */
import { PROVIDER_SECRETS } from "../../providers/catalog.js";
import { isEmulator } from "../../config/params.js";
import { SHAPES } from "../shapes.js";
import { userCallable } from "./callable.js";

const parseJobId = async (data: unknown) => (await import("../../jobs/ownerActions.js")).parseJobRef(data);

export const createJob = userCallable(
  "createJob",
  // Sharp decodes photos of up to MAX_IMAGE_PIXELS in memory; async providers are polled in-call.
  // Provider keys are bound here and nowhere else: only createJob talks to providers.
  // Replay protection where a call costs money: each createJob consumes its (limited-use) App
  // Check token, so a captured token cannot be replayed to run paid provider calls.
  // Shape from measured per-job memory (docs/CAPACITY.md): 2 GiB holds CREATE_JOB_CONCURRENCY
  // requests' bodies plus CREATE_JOB_ADMISSION_MB of admitted jobs; concurrency > 1 needs cpu ≥ 1.
  {
    ...SHAPES.createJob,
    secrets: PROVIDER_SECRETS,
    consumeAppCheckToken: !isEmulator(),
  },
  // Admitted against the instance's memory budget before anything is decoded, any job exists or
  // quota is counted: a busy instance answers unavailable/instance-busy, never out-of-memory.
  async (uid, data) => {
    const { createJobBytes, withAdmission } = await import("../../capacity/admission.js");
    return withAdmission("createJob", await createJobBytes(uid, data), async () => (await import("../../jobs/createJob.js")).createJob(uid, data));
  },
);

export const getJobResult = userCallable("getJobResult", SHAPES.light, async (uid, data) =>
  (await import("../../jobs/ownerActions.js")).getJobResult(uid, await parseJobId(data)),
);

export const ackJobResult = userCallable("ackJobResult", SHAPES.light, async (uid, data) =>
  (await import("../../jobs/ownerActions.js")).ackJobResult(uid, await parseJobId(data)),
);

export const cancelJob = userCallable("cancelJob", SHAPES.light, async (uid, data) =>
  (await import("../../jobs/ownerActions.js")).cancelJob(uid, await parseJobId(data)),
);
