/**
 * What each provider a face may go to says it keeps, and for how long: shown to users by
 * exportMyData. Each statement lives in the provider's descriptor (`<id>/descriptor.ts`, with its
 * sources); this file derives the table and the deletion keys from descriptors.ts. Pure data: the
 * triggers import it to bind secrets.
 */
import type { ProviderDataPractice, Secret } from "./descriptor.js";
import { DESCRIPTORS, type ProviderId } from "./descriptors.js";

export type { ProviderDataPractice } from "./descriptor.js";

export const PROVIDER_DATA_PRACTICES = Object.fromEntries(DESCRIPTORS.map((d) => [d.id, d.retention])) as unknown as Readonly<
  Record<ProviderId, ProviderDataPractice>
>;

/** Where `source` files live, relative to the repository root. */
export const PROVIDER_DOCS_DIR = "../shared/providers";

/**
 * Keys the deletion paths (deleteMyData, onUserDeleted) need to cancel or delete provider tasks,
 * and nothing more: only providers whose API offers it.
 */
export const PROVIDER_DELETION_SECRETS: Secret[] = [
  ...new Set(
    DESCRIPTORS.filter((d) => ["cancel-and-delete", "cancel-pending"].includes(d.retention.deletionByApi)).flatMap((d): readonly Secret[] => d.secrets),
  ),
];
