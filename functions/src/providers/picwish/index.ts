// Placeholder until this adapter is written (issue 3): the provider answers failed-precondition.
import { AppError } from "../../errors.js";
import type { ImageProvider } from "../types.js";

export function createPicWishProvider(_options: Record<string, unknown>): ImageProvider {
  throw new AppError("failed-precondition", "provider: picwish is not available yet", "provider-unavailable");
}
