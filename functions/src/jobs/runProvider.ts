/**
 * Drives one provider call for an image job: run a sync provider, or submit to an async one and
 * poll it until the deadline; fetch and verify the result, and turn provider errors into the
 * stable codes clients rely on.
 */
import { maxResultBytes, type Settings } from "../config/params.js";
import type { RuntimeConfig } from "../config/runtimeConfigSchema.js";
import { AppError, type ErrorCode } from "../errors.js";
import { inspectImage } from "../images/validate.js";
import {
  isSyncImageProvider,
  ProviderFailure,
  type AsyncImageProvider,
  type ImageProvider,
  type PollingPolicy,
  type ImageRequest,
  type JobRef,
  type Outcome,
  type ProviderError,
  type ResultImage,
} from "../providers/types.js";
import { withImageProviderLimit } from "./providerLimits.js";

const DEFAULT_POLLING: Omit<PollingPolicy, "deadlineMs"> = { startMs: 1_000, maxMs: 8_000, factor: 1.5 };

/**
 * The provider's polling policy, within the job's deadline. `PROVIDER_POLL_INTERVAL_MS` and
 * `<PROVIDER>_POLL_DEADLINE_MS` override it (tests against fakes poll in milliseconds).
 */
export function pollingPolicy(provider: ImageProvider, jobDeadlineMs: number, env = process.env): PollingPolicy {
  const policy = { ...DEFAULT_POLLING, deadlineMs: jobDeadlineMs, ...(isSyncImageProvider(provider) ? {} : provider.polling) };
  const interval = Number(env.PROVIDER_POLL_INTERVAL_MS);
  if (interval > 0) Object.assign(policy, { startMs: interval, maxMs: interval });
  const deadline = Number(env[`${provider.id.toUpperCase()}_POLL_DEADLINE_MS`]);
  if (deadline > 0) policy.deadlineMs = deadline;
  policy.deadlineMs = Math.min(policy.deadlineMs, jobDeadlineMs);
  return policy;
}

/**
 * An image job's provider call within this instance's share of the provider's caps
 * (jobs/providerLimits.ts): the slot is held from submit to the verified result.
 */
export function runImageProviderWithinLimits(provider: ImageProvider, request: ImageRequest, s: Settings, config: RuntimeConfig): Promise<ResultImage> {
  return withImageProviderLimit(provider.id, config, () => runImageProvider(provider, request, s));
}

export async function runImageProvider(provider: ImageProvider, request: ImageRequest, s: Settings): Promise<ResultImage> {
  const policy = pollingPolicy(provider, s.imageJobDeadlineMinutes * 60_000);
  const deadline = AbortSignal.timeout(policy.deadlineMs);
  let ref: JobRef | undefined;
  try {
    let outcome: Outcome;
    if (isSyncImageProvider(provider)) outcome = await provider.run(request, deadline);
    else {
      const submitted = await provider.submit(request, deadline);
      if (isJobRef(submitted)) ref = submitted;
      outcome = isJobRef(submitted) ? await pollUntilDone(provider, submitted, policy, deadline) : submitted;
    }
    if (outcome.state === "running") throw new Error("a provider answered at once with a running outcome");
    if (outcome.state === "failed") throw new ProviderFailure(outcome.error);
    const [image] = await provider.fetchResult(outcome, deadline);
    if (!image) throw new ProviderFailure({ kind: "permanent", message: "The provider returned no image." });
    return verifyResult(image, s);
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (deadline.aborted) {
      // Stop paid work we no longer wait for, where the provider allows it (best effort).
      if (ref && !isSyncImageProvider(provider) && provider.cancel) await provider.cancel(ref).catch(() => undefined);
      throw new AppError("deadline-exceeded", "The provider did not finish in time.", "provider-deadline");
    }
    throw toAppError(providerErrorOf(provider, error));
  }
}

/** Async providers (BFL, Wan, Kling): poll with exponential backoff until done or the deadline. */
async function pollUntilDone(provider: AsyncImageProvider, ref: JobRef, policy: PollingPolicy, deadline: AbortSignal): Promise<Outcome> {
  for (let wait = policy.startMs; ; wait = Math.min(wait * policy.factor, policy.maxMs)) {
    await sleep(wait, deadline);
    const outcome = await provider.poll(ref, deadline);
    if (outcome.state !== "running") return outcome;
  }
}

const isJobRef = (o: JobRef | Outcome): o is JobRef => !("state" in o);

/**
 * A result is face data from outside: check it is an image of an accepted type within the caps
 * before returning it. A bad result is the provider's fault, not the user's.
 */
function verifyResult(image: ResultImage, s: Settings): ResultImage {
  try {
    const checked = inspectImage(image.bytes, image.mime, { maxBytes: maxResultBytes(s), maxPixels: s.maxImagePixels });
    if (checked.mime === "image/heic" || checked.mime === "image/heif") throw new Error("results must be JPEG, PNG or WebP");
    return { ...image, mime: checked.mime, width: checked.width, height: checked.height };
  } catch {
    throw new ProviderFailure({ kind: "retryable", message: "The provider returned an invalid image.", providerCode: "bad-result" });
  }
}

/** Any error from an adapter call, reduced once to a ProviderError by that adapter's classify(). */
export const providerErrorOf = (provider: { classify(e: unknown): ProviderError }, error: unknown): ProviderError =>
  error instanceof ProviderFailure ? error.error : provider.classify(error);

const CODE_BY_KIND: Record<ProviderError["kind"], { code: ErrorCode; reason: string }> = {
  retryable: { code: "unavailable", reason: "provider-unavailable" },
  quota: { code: "resource-exhausted", reason: "provider-quota" },
  policy_rejected: { code: "failed-precondition", reason: "provider-policy-rejected" },
  permanent: { code: "failed-precondition", reason: "provider-rejected" },
};

export function toAppError(error: ProviderError): AppError {
  const { code, reason } = CODE_BY_KIND[error.kind];
  const retryAfterSeconds = error.retryAfterMs ? Math.ceil(error.retryAfterMs / 1000) : undefined;
  return new AppError(code, error.message, reason, retryAfterSeconds ? { retryAfterSeconds } : undefined);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
