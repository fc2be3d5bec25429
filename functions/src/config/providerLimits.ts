/**
 * Per-provider caps on our calls (issue #12): how many tasks may run at a provider at once and how
 * many may start per minute, across all instances. Built-in defaults below; `config/runtime`
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

/** Where the references state no limit: caps low enough not to surprise a new account. */
const CONSERVATIVE: ProviderLimits = { maxConcurrent: 10, requestsPerMinute: 60 };

/**
 * The defaults, with their sources in ../shared/providers/*.md. A provider absent here gets
 * CONSERVATIVE. Image and video calls of one provider (Kling, MiniMax, Wan) are capped separately
 * (docs/PROVIDER-LIMITS.md), so set these to half the account's limit if both are in heavy use.
 */
export const DEFAULT_PROVIDER_LIMITS: Readonly<Record<string, ProviderLimits>> = {
  // Runs on our own instances: bound by each instance's CPU and memory, not by an account.
  local: {},
  // bfl-kontext.md §5: 429 above 24 in-flight tasks (6 for flux-kontext-max: set 6 if you use it);
  // no request rate is stated.
  bfl: { maxConcurrent: 24, requestsPerMinute: 60 },
  // google-veo.md: "10 requests/min/project" (veo-3.0); concurrency unstated.
  veo: { maxConcurrent: 10, requestsPerMinute: 10 },
  // runway.md: tiers allow 1–2 … 20 tasks at once (more are queued at Runway, THROTTLED); no RPM limit.
  runway: { maxConcurrent: 2 },
  // kling-video.md: a task holds one slot of the resource pack until it ends; "no QPS limit".
  // The pack's size is per account, so a small one is assumed.
  kling: { maxConcurrent: 5 },
  // minimax-hailuo.md: "5 RPM for video" (third-party, unconfirmed); image limits unstated. One
  // number serves both, so images are not held to the video figure: set 5 if video dominates.
  minimax: { maxConcurrent: 5, requestsPerMinute: 20 },
  // alibaba-wan-*.md: rate limits per model per account, values unstated (20 QPS for task queries).
  wan: CONSERVATIVE,
};

export type ProviderLimitOverrides = Partial<Record<keyof ProviderLimits, number>>;

/** The caps in force for a provider: the defaults with the admin's overrides; 0 means no cap. */
export function providerLimitsFor(provider: string, overrides: Readonly<Record<string, ProviderLimitOverrides>> = {}): ProviderLimits {
  const merged = { ...(DEFAULT_PROVIDER_LIMITS[provider] ?? CONSERVATIVE), ...overrides[provider] };
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
