/** Small pieces every adapter of one kind would otherwise repeat. */
import { AppError } from "../errors.js";
import { providerFetch, ProviderHttpError, type HttpRequest } from "./http.js";
import { videoInstructionFor } from "./prompts.js";
import type { InputImage } from "./types.js";

/** A photo the provider documents it cannot take, refused before any upload; `message` names the limit. */
export const refuseImage = (message: string) => new AppError("invalid-argument", `image: ${message}`, "image-unsupported-by-provider");

/** The photo as a Base64 data URL (data URI). */
export const dataUrlOf = (image: InputImage) => `data:${image.mime};base64,${Buffer.from(image.bytes).toString("base64")}`;

/**
 * videoInstructionFor(prompt), refused when it is longer than the provider takes: a provider that
 * truncates would cut off the identity line at its end.
 */
export function videoPromptWithin(prompt: string | undefined, maxChars: number, providerName: string): string {
  const instruction = videoInstructionFor(prompt);
  if (instruction.length > maxChars) {
    throw new AppError(
      "invalid-argument",
      `prompt: too long for ${providerName}; shorten it by ${instruction.length - maxChars} characters`,
      "prompt-too-long",
    );
  }
  return instruction;
}

/** A request option that must be one of the values the provider documents; `allowedText` says which. */
export function optionIn<T>(field: string, value: unknown, allowed: readonly T[], allowedText: string): T {
  if (!(allowed as readonly unknown[]).includes(value)) throw new AppError("invalid-argument", `options.${field}: ${allowedText}`, "option-invalid");
  return value as T;
}

/**
 * DELETE of a provider's task (a cancel or a delete): retried, since asking twice cannot bill
 * twice; gone already (404) counts as done.
 */
export async function deleteProviderTask(req: Omit<HttpRequest, "method" | "idempotent">): Promise<void> {
  try {
    const res = await providerFetch({ ...req, method: "DELETE", idempotent: true });
    await res.body?.cancel();
  } catch (error) {
    if (!(error instanceof ProviderHttpError && error.status === 404)) throw error;
  }
}
