/**
 * The providers by id, with their credentials: derived from descriptors.ts, so adding a provider
 * never touches this file. Tiny on purpose: the triggers import it to bind secrets, so it loads no
 * adapter code. A provider whose credentials are absent is unavailable and never chosen as a default.
 */
import type { ProviderDescriptor, Secret } from "./descriptor.js";
import { DESCRIPTORS, type ProviderId } from "./descriptors.js";

export type { ProviderId } from "./descriptors.js";

export const PROVIDERS: Readonly<Record<ProviderId, ProviderDescriptor>> = Object.fromEntries(DESCRIPTORS.map((d) => [d.id, d])) as unknown as Record<
  ProviderId,
  ProviderDescriptor
>;

export const PROVIDER_IDS: ProviderId[] = DESCRIPTORS.map((d) => d.id);
export const isProviderId = (id: string): id is ProviderId => Object.hasOwn(PROVIDERS, id);

/** Bound to the functions that call providers, and only to those. */
export const PROVIDER_SECRETS: Secret[] = [...new Set(DESCRIPTORS.flatMap((d): readonly Secret[] => d.secrets))];
