/**
 * Default caps per provider, from the descriptors (each with its source), merged with the admin's
 * `config/runtime.providerLimits` overrides by config/providerLimits.ts. Image and video calls of
 * one provider (Kling, MiniMax, Wan) are capped separately (docs/PROVIDER-LIMITS.md), so set these
 * to half the account's limit if both are in heavy use.
 */
import { mergeLimits, UNSTATED_LIMITS, type ProviderLimitOverrides, type ProviderLimits, type ProviderPath } from "../config/providerLimits.js";
import type { ProviderDescriptor } from "./descriptor.js";
import { DESCRIPTORS } from "./descriptors.js";

/** The built-in defaults of providers that declare them; the others get UNSTATED_LIMITS. */
export const DEFAULT_PROVIDER_LIMITS: Readonly<Record<string, ProviderLimits>> = Object.fromEntries(
  DESCRIPTORS.filter((d: ProviderDescriptor) => d.limits).map((d: ProviderDescriptor) => {
    const { maxConcurrent, requestsPerMinute } = d.limits!;
    return [d.id, { ...(maxConcurrent !== undefined && { maxConcurrent }), ...(requestsPerMinute !== undefined && { requestsPerMinute }) }];
  }),
);

/**
 * The caps in force for a provider's image calls or video tasks: its defaults (or, with none
 * stated, that path's UNSTATED_LIMITS) with the admin's overrides; 0 means no cap.
 */
export const providerLimitsFor = (provider: string, overrides: Readonly<Record<string, ProviderLimitOverrides>>, path: ProviderPath): ProviderLimits =>
  mergeLimits(DEFAULT_PROVIDER_LIMITS[provider] ?? UNSTATED_LIMITS[path], overrides[provider]);
