/** The one classify() of the local providers (image and video), each with its own wording. */
import { AppError } from "../../errors.js";
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
      error.code === "resource-exhausted"
        ? "quota"
        : error.code === "unavailable" || error.code === "deadline-exceeded"
          ? "retryable"
          : "permanent";
    return { kind, message: error.message, providerCode: error.reason };
  }
  if (error instanceof Error && error.name === "AbortError") {
    return { kind: "permanent", message: texts.cancelled, providerCode: "aborted" };
  }
  return { kind: "permanent", message: texts.failed, providerCode: texts.failedCode };
}
