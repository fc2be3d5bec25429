/** The one classify() of the local providers (image and video), each with its own wording. */
import { AppError, isTransientBackendError } from "../../errors.js";
import { ProviderFailure, type ProviderError } from "../types.js";

export interface LocalFailureTexts {
  /** For an abort (a cancelled job). */
  cancelled: string;
  /** For anything else, whose own text is kept out. */
  failed: string;
  failedCode: string;
}

/**
 * Bad input and unsupported requests are permanent: retrying the same photo gives the same answer.
 * An AppError keeps its code's kind (resource-exhausted → quota; unavailable, deadline-exceeded →
 * retryable). Anything else (fs, libvips, ffmpeg) may describe the input or paths: its text is kept out.
 */
export function classifyLocal(error: unknown, texts: LocalFailureTexts): ProviderError {
  if (error instanceof ProviderFailure) return error.error;
  if (error instanceof AppError) {
    const kind: ProviderError["kind"] =
      error.code === "resource-exhausted" ? "quota" : error.code === "unavailable" || error.code === "deadline-exceeded" ? "retryable" : "permanent";
    return { kind, message: error.message, providerCode: error.reason };
  }
  // Our own Storage or Firestore briefly down (e.g. while the local video's result is stored): the
  // job may work on a retry, so it is not the permanent "provider-rejected" (found by npm run chaos).
  if (isTransientBackendError(error)) return { kind: "retryable", message: texts.failed, providerCode: "backend-unavailable" };
  if (error instanceof Error && error.name === "AbortError") {
    return { kind: "permanent", message: texts.cancelled, providerCode: "aborted" };
  }
  return { kind: "permanent", message: texts.failed, providerCode: texts.failedCode };
}
