/** Small pieces every adapter of one kind would otherwise repeat. */
import { ProviderFailure, type ImageProvider } from "./types.js";

/** poll() of a provider that answers synchronously: the job never polls it, so a call is a bug. */
export const syncProviderPoll =
  (providerName: string): ImageProvider["poll"] =>
  async () => {
    throw new ProviderFailure({ kind: "permanent", message: `${providerName} answers synchronously; there is no task to poll.`, providerCode: "sync-provider" });
  };
