/**
 * The shape of `config/runtime` (admin-edited in the Firebase console) and its safe default.
 * Pure (zod only), so the local stack can seed exactly what the functions read.
 */
import { z } from "zod";
import { FEATURES } from "../domain/features.js";

const providerChoice = z.object({ provider: z.string(), model: z.string().optional() });

const count = z.number().int().min(0);
const featureLimits = z.object({ perHour: count, perDay: count });

/** Per-user limits: how many jobs per feature per hour and per day, and how many at once. */
const quotasSchema = z.object({
  perFeature: z.partialRecord(z.enum(FEATURES), featureLimits).default({}),
  /** Jobs of any feature a user may have queued or running at the same time. */
  maxConcurrentJobs: z.number().int().min(1),
});

export const DEFAULT_QUOTAS: z.infer<typeof quotasSchema> = {
  perFeature: {
    edit: { perHour: 30, perDay: 200 },
    style: { perHour: 30, perDay: 200 },
    cutout: { perHour: 30, perDay: 200 },
    enhance: { perHour: 30, perDay: 200 },
    video: { perHour: 5, perDay: 20 },
  },
  maxConcurrentJobs: 3,
};

export const runtimeConfigSchema = z.object({
  /** Global kill switch: when true no job starts. */
  killSwitch: z.boolean().default(false),
  /** Providers that may receive face data; anything not listed is refused. */
  enabledProviders: z.array(z.string()).default(["local"]),
  /** Default provider (and optionally model) per feature. */
  defaults: z.partialRecord(z.enum(FEATURES), providerChoice).default({}),
  /** Per provider, the models clients may pick (a subset of what the adapter supports); absent = all. */
  allowedModels: z.record(z.string(), z.array(z.string())).default({}),
  /**
   * Per feature, the providers to try, in order, after the default: routing skips disabled or
   * unconfigured ones; absent = `enabledProviders` order.
   */
  fallbackOrder: z.partialRecord(z.enum(FEATURES), z.array(z.string())).default({}),
  /**
   * When true, a job whose provider is down (retryable or provider-quota errors only, never a
   * policy rejection) moves on to the next provider in `fallbackOrder`; recorded in the job.
   * Applies only to requests that named neither provider nor model.
   */
  autoFallback: z.boolean().default(false),
  /** Per-user quotas; a feature missing from `perFeature` uses the built-in default. */
  quotas: quotasSchema.default(DEFAULT_QUOTAS),
  /**
   * Per provider, caps on our calls across all instances (config/providerLimits.ts has the
   * defaults); a field left out keeps its default, 0 lifts the cap.
   */
  providerLimits: z.record(z.string(), z.strictObject({ maxConcurrent: count.optional(), requestsPerMinute: count.optional() })).default({}),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type QuotaLimits = RuntimeConfig["quotas"];

/** What runs when no admin has written config/runtime yet: only the embedded offline provider. */
export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = runtimeConfigSchema.parse({
  enabledProviders: ["local"],
  defaults: Object.fromEntries(FEATURES.map((f) => [f, { provider: "local" }])),
});
