/**
 * Per-provider caps on our calls (issue #12): how many tasks may run at a provider at once and how
 * many may start per minute, across all instances. Built-in defaults are in each provider's
 * descriptor (`providers/<id>/descriptor.ts`, with sources); `config/runtime`
 * `providerLimits.<provider>` overrides them field by field, where `0` lifts a cap. Pure (no SDK),
 * so the schema, the image limiter and the video slots read the same numbers. How each path
 * enforces them: docs/PROVIDER-LIMITS.md.
 */

export interface ProviderLimits {
  /** Tasks at the provider at once (submitted and not finished); undefined = no cap. */
  maxConcurrent?: number;
  /** Task starts (submits) per rolling minute; undefined = no cap. Status polls do not count. */
  requestsPerMinute?: number;
}

/** Where the references state no limit, for video: caps low enough not to surprise a new account. */
export const CONSERVATIVE: ProviderLimits = { maxConcurrent: 10, requestsPerMinute: 60 };

/** Which calls a cap governs: image calls are limited per instance, video tasks across instances. */
export type ProviderPath = "image" | "video";

/**
 * The defaults of a provider whose descriptor states no limit. Video: CONSERVATIVE, which the
 * leases keep exactly across instances. Images: none, since a made-up cap split over
 * CREATE_JOB_MAX_INSTANCES is 1 per instance, which refuses users without bounding the total;
 * the provider's own 429s go through providers/http.ts (docs/PROVIDER-LIMITS.md).
 */
export const UNSTATED_LIMITS: Readonly<Record<ProviderPath, ProviderLimits>> = { image: {}, video: CONSERVATIVE };

export type ProviderLimitOverrides = Partial<Record<keyof ProviderLimits, number>>;

/**
 * The caps in force: a provider's defaults (its descriptor's `limits`, UNSTATED_LIMITS without)
 * with the admin's overrides; 0 means no cap. providers/limits.ts applies it per provider and path.
 */
export function mergeLimits(defaults: ProviderLimits, override: ProviderLimitOverrides = {}): ProviderLimits {
  const merged = { ...defaults, ...override };
  const limits: ProviderLimits = {};
  if (merged.maxConcurrent) limits.maxConcurrent = merged.maxConcurrent;
  if (merged.requestsPerMinute) limits.requestsPerMinute = merged.requestsPerMinute;
  return limits;
}

export const isCapped = (limits: ProviderLimits) => limits.maxConcurrent !== undefined || limits.requestsPerMinute !== undefined;

/**
 * One instance's share of the caps, for calls each instance limits on its own (images): divided by
 * how many instances may run, rounded down, at least 1. Sum over instances ≤ the cap whenever each
 * cap ≥ `instances` (below that, every instance still gets 1: docs/PROVIDER-LIMITS.md).
 */
export function perInstanceShare(limits: ProviderLimits, instances: number): ProviderLimits {
  const share = (cap: number | undefined) => (cap === undefined ? undefined : Math.max(1, Math.floor(cap / Math.max(1, instances))));
  const result: ProviderLimits = {};
  const maxConcurrent = share(limits.maxConcurrent);
  const requestsPerMinute = share(limits.requestsPerMinute);
  if (maxConcurrent !== undefined) result.maxConcurrent = maxConcurrent;
  if (requestsPerMinute !== undefined) result.requestsPerMinute = requestsPerMinute;
  return result;
}
