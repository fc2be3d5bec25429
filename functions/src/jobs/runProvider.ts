/**
 * Drives one provider call for an image job: submit, poll async providers until the deadline,
 * fetch and verify the result, and turn provider errors into the stable codes clients rely on.
 */
import type { Settings } from "../config/params.js";
import { AppError, type ErrorCode } from "../errors.js";
import { inspectImage } from "../images/validate.js";
import { ProviderFailure, type ImageProvider, type ImageRequest, type JobRef, type Outcome, type ProviderError, type ResultImage } from "../providers/types.js";

const POLL_START_MS = 1_000;
const POLL_MAX_MS = 8_000;

export async function runImageProvider(provider: ImageProvider, request: ImageRequest, s: Settings): Promise<ResultImage> {
  const deadline = AbortSignal.timeout(s.imageJobDeadlineMinutes * 60_000);
  try {
    const submitted = await provider.submit(request, deadline);
    const outcome = isJobRef(submitted) ? await pollUntilDone(provider, submitted, deadline) : submitted;
    if (outcome.state === "running") throw new Error("a sync provider returned a running outcome");
    if (outcome.state === "failed") throw new ProviderFailure(outcome.error);
    const [image] = await provider.fetchResult(outcome, deadline);
    if (!image) throw new ProviderFailure({ kind: "permanent", message: "The provider returned no image." });
    return verifyResult(image, s);
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (deadline.aborted) throw new AppError("deadline-exceeded", "The provider did not finish in time.", "provider-deadline");
    throw toAppError(error instanceof ProviderFailure ? error.error : provider.classify(error));
  }
}

/** Async providers (BFL, Wan, Kling): poll with exponential backoff until done or the deadline. */
async function pollUntilDone(provider: ImageProvider, ref: JobRef, deadline: AbortSignal): Promise<Outcome> {
  for (let wait = POLL_START_MS; ; wait = Math.min(wait * 2, POLL_MAX_MS)) {
    await sleep(wait, deadline);
    const outcome = await provider.poll(ref, deadline);
    if (outcome.state !== "running") return outcome;
  }
}

const isJobRef = (o: JobRef | Outcome): o is JobRef => !("state" in o);

/** A result is face data from outside: check it is the image it claims to be before returning it. */
function verifyResult(image: ResultImage, s: Settings): ResultImage {
  const checked = inspectImage(image.bytes, image.mime, { maxBytes: s.maxImageBytes * 4, maxPixels: s.maxImagePixels });
  return { ...image, width: checked.width, height: checked.height };
}

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
    signal.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}
