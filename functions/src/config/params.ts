/**
 * Deploy-time settings, declared once as Firebase params (set in functions/.env.<project> or
 * prompted at deploy; `.env.local` for the emulator). Read with `settings()` inside handlers only.
 */
import { defineInt } from "firebase-functions/params";

/**
 * Instance shape (docs/CAPACITY.md): deploy-time params passed as function options, so admins tune
 * them without a code change. Concurrency needs cpu ≥ 1 on Cloud Functions 2nd gen.
 */
export const capacityParams = {
  createJobConcurrency: defineInt("CREATE_JOB_CONCURRENCY", {
    default: 8,
    description: "Requests one createJob instance serves at once (cpu is 1; docs/CAPACITY.md).",
  }),
  createJobMaxInstances: defineInt("CREATE_JOB_MAX_INSTANCES", {
    default: 150,
    description: "Most createJob instances at once: instances x concurrency bounds jobs in flight.",
  }),
  uploadConcurrency: defineInt("UPLOAD_CONCURRENCY", {
    default: 8,
    description: "Requests one uploadImage instance serves at once (each may hold a body of up to 32 MiB).",
  }),
  uploadMaxInstances: defineInt("UPLOAD_MAX_INSTANCES", { default: 150, description: "Most uploadImage instances at once." }),
};

/**
 * createJob's maxInstances as the running code sees it: the image limiter gives each instance
 * 1/this of every provider cap (docs/PROVIDER-LIMITS.md), so the share always matches the deployed
 * shape. A deploy and the emulator set the param; a process outside both (tests, scripts) is one
 * instance on its own, so it gets whole caps.
 */
export const createJobMaxInstances = (): number => (process.env.CREATE_JOB_MAX_INSTANCES ? Math.max(1, capacityParams.createJobMaxInstances.value()) : 1);

function intSetting(name: string, defaultValue: number, description: string) {
  const param = defineInt(name, { default: defaultValue, description });
  // Outside a deploy or the emulator (plain unit/integration runs) the param has no env value and
  // firebase-functions would read it as 0: fall back to the declared default.
  return () => (process.env[name] ? param.value() : defaultValue);
}

const read = {
  maxImageBytes: intSetting("MAX_IMAGE_BYTES", 15_000_000, "Largest accepted input image, in bytes."),
  maxImagePixels: intSetting("MAX_IMAGE_PIXELS", 40_000_000, "Largest accepted input image, in pixels (decompression-bomb cap)."),
  maxPromptChars: intSetting("MAX_PROMPT_CHARS", 2_000, "Longest accepted prompt, in characters."),
  resultTtlMinutes: intSetting("RESULT_TTL_MINUTES", 30, "How long a generated result may be held before it is deleted."),
  uploadTtlMinutes: intSetting("UPLOAD_TTL_MINUTES", 30, "How long an unused upload is kept before it is deleted."),
  imageJobDeadlineMinutes: intSetting("IMAGE_JOB_DEADLINE_MINUTES", 10, "After this, an unfinished image job is expired by the purge."),
  videoJobDeadlineMinutes: intSetting("VIDEO_JOB_DEADLINE_MINUTES", 20, "After this, an unfinished video job is expired and cancelled at the provider."),
  maxVideoBytes: intSetting("MAX_VIDEO_BYTES", 200_000_000, "Largest generated video accepted from a provider, in bytes."),
  resultUrlMinutes: intSetting("RESULT_URL_MINUTES", 10, "How long a result download URL handed to the client stays valid."),
  runtimeConfigCacheSeconds: intSetting("RUNTIME_CONFIG_CACHE_SECONDS", 30, "How long config/runtime is cached per instance."),
  jobRetentionDays: intSetting("JOB_RETENTION_DAYS", 30, "How long a finished job's status document is kept before the purge deletes it (at least 1)."),
  createJobAdmissionMb: intSetting("CREATE_JOB_ADMISSION_MB", 1_200, "Memory one createJob instance may commit to admitted jobs, in MB (docs/CAPACITY.md)."),
  uploadAdmissionMb: intSetting(
    "UPLOAD_ADMISSION_MB",
    300,
    "Memory one uploadImage instance may commit to request bodies in flight, in MB (docs/CAPACITY.md).",
  ),
  admissionWaitMs: intSetting(
    "ADMISSION_WAIT_MS",
    3_000,
    "How long a request may wait for memory on a busy instance before it is refused as unavailable/instance-busy.",
  ),
};

export type Settings = { [K in keyof typeof read]: number };

export function settings(): Settings {
  return Object.fromEntries(Object.entries(read).map(([key, get]) => [key, get()])) as Settings;
}

/** The longest any transient object may live: the purge uses it where metadata is missing. */
export function maxTransientTtlMs(s: Settings = settings()): number {
  return Math.max(s.resultTtlMinutes, s.uploadTtlMinutes, s.imageJobDeadlineMinutes, s.videoJobDeadlineMinutes) * 60_000;
}

/**
 * How long a job's status document is kept after it is created (JOB_RETENTION_DAYS). At least a
 * day: a job must have ended (deadlines are minutes) before its record may go.
 */
export const jobRetentionMs = (s: Settings = settings()) => Math.max(1, s.jobRetentionDays) * 86_400_000;

/** Cron or App Engine syntax; read at deploy time, so it is an env var rather than a runtime param. */
export const PURGE_SCHEDULE = process.env.PURGE_SCHEDULE || "every 10 minutes";

export const isEmulator = () => process.env.FUNCTIONS_EMULATOR === "true";

/**
 * The load harness's `echo` callable exists only under the Functions emulator. `firebase deploy`
 * discovers functions without FUNCTIONS_EMULATOR (only the emulator sets it, discovery included),
 * so a deploy never contains it.
 */
export const exportsLocalEcho = (env: NodeJS.ProcessEnv = process.env) => env.FUNCTIONS_EMULATOR === "true";

/**
 * Cloud Functions (2nd gen) answers at most 32 MB uncompressed (non-streaming responses), and an
 * image result travels in the callable's JSON as base64 (4/3 of it): a larger result would leave
 * the function as a succeeded job whose answer the platform never delivers. Headroom for the JSON.
 */
export const CALLABLE_RESPONSE_MAX_BYTES = 32_000_000;
export const RESULT_MAX_BYTES_IN_A_RESPONSE = Math.floor(((CALLABLE_RESPONSE_MAX_BYTES - 64_000) * 3) / 4);

/** Results may be larger than inputs (upscales, PNG), within what a callable's answer can carry. */
export const maxResultBytes = (s: Settings = settings()) => Math.min(s.maxImageBytes * 2, RESULT_MAX_BYTES_IN_A_RESPONSE);
