// Placeholder until this adapter is written (issue 3): the provider answers failed-precondition.
import { AppError } from "../../errors.js";
import type { ImageProvider } from "../types.js";

export function createKlingProvider(_options: Record<string, unknown>): ImageProvider {
  throw new AppError("failed-precondition", "provider: kling is not available yet", "provider-unavailable");
}
