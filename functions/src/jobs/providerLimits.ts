/**
 * Per-provider caps (config/providerLimits.ts) where provider calls start; docs/PROVIDER-LIMITS.md.
 * - Images, per instance: an in-process limiter holding 1/`CREATE_JOB_MAX_INSTANCES` of each cap, for
 *   the whole call (submit, polls, download); a provider with no stated limit has none by default.
 *   A call that would wait more than 20 s is refused (`unavailable`, reason `provider-busy`,
 *   `retryAfterSeconds`).
 * - Video, across instances: one lease document per provider, `providerSlots/{provider}`, changed
 *   in a transaction when a task starts (1 read, 1 write) and written when it ends (1 write). A
 *   lease expires at the job's deadline, so an instance that dies mid-job cannot leak it.
 */
import "../admin.js";
import { createHash } from "node:crypto";
import { FieldValue, getFirestore } from "firebase-admin/firestore";
import { z } from "zod";
import { isCapped, perInstanceShare, type ProviderLimits } from "../config/providerLimits.js";
import { providerLimitsFor } from "../providers/limits.js";
import { createJobMaxInstances } from "../config/params.js";
import { getRuntimeConfig, type RuntimeConfig } from "../config/runtimeConfig.js";
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import type { NonUserCollection } from "../storage/paths.js";
import { dependency } from "../util/dependencies.js";
import { LimiterBusy, RateLimiter } from "../util/rateLimiter.js";

/** Longer than this and the user is better served by a refusal (or another provider, with autoFallback). */
export const IMAGE_MAX_WAIT_MS = 20_000;

/** This instance's limiters, one per capped provider; tests start each case with empty ones (util/dependencies.ts). */
export const imageLimiters = dependency("imageLimiters", new Map<string, RateLimiter>());

/** Calls holding a slot of this instance's limiter for `provider`; undefined while it has none (uncapped). */
export const imageLimiterInFlight = (provider: string): number | undefined => imageLimiters.get().get(provider)?.inFlight;

/** Runs one image provider call within this instance's share of the provider's caps. */
export async function withImageProviderLimit<T>(provider: string, config: RuntimeConfig, call: () => Promise<T>): Promise<T> {
  const caps = perInstanceShare(providerLimitsFor(provider, config.providerLimits, "image"), createJobMaxInstances());
  const limiters = imageLimiters.get();
  let limiter = limiters.get(provider);
  if (!limiter) {
    if (!isCapped(caps)) return call();
    limiters.set(provider, (limiter = new RateLimiter(caps, IMAGE_MAX_WAIT_MS)));
  } else limiter.setCaps(caps);
  try {
    return await limiter.run(call);
  } catch (error) {
    if (error instanceof LimiterBusy) throw providerBusy(provider, error.retryAfterMs);
    throw error;
  }
}

function providerBusy(provider: string, retryAfterMs: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  logs.providerBusy(provider, retryAfterSeconds);
  return new AppError("unavailable", `This provider is busy with other photos right now; try again in ${retryAfterSeconds} seconds.`, "provider-busy", {
    retryAfterSeconds,
  });
}

// --- Video: leases across instances ---------------------------------------------------------

const WINDOW_MS = 60_000;
/** How soon a job waiting for a concurrency slot asks again (nothing tells it when one frees). */
const SLOT_RECHECK_MS = 15_000;

const slotDocSchema = z.object({
  /** Lease key (a hash of the job id) → epoch ms when it lapses (the job's deadline). */
  leases: z.record(z.string(), z.number()).default({}),
  /** Epoch ms of the starts in the last minute, ascending. */
  starts: z.array(z.number()).default([]),
});

// A collection declared in paths.ts as holding no user data (the privacy audit allows it).
const slotRef = (provider: string) => getFirestore().doc(`${"providerSlots" satisfies NonUserCollection}/${provider}`);

/** Names a job's lease without naming the job: the document is outside the user's data. */
export const leaseKeyOf = (jobId: string) => createHash("sha256").update(`photo-fixer-provider-slot\n${jobId}`).digest("hex").slice(0, 24);

export type SlotDecision = { granted: true } | { granted: false; retryAfterMs: number };

/**
 * Takes a slot for a video task at `provider` unless that would exceed its caps. Idempotent per
 * job (a redelivered start finds its lease). Expired leases and starts older than a minute are
 * dropped in the same write.
 */
export async function acquireVideoSlot(provider: string, limits: ProviderLimits, jobId: string, leaseUntil: number, now = Date.now()): Promise<SlotDecision> {
  const key = leaseKeyOf(jobId);
  const recheckMs = Number(process.env.PROVIDER_POLL_INTERVAL_MS) > 0 ? Number(process.env.PROVIDER_POLL_INTERVAL_MS) : SLOT_RECHECK_MS;
  return getFirestore().runTransaction(async (tx) => {
    const snap = await tx.get(slotRef(provider));
    const parsed = slotDocSchema.safeParse(snap.data() ?? {});
    // A document an admin mangled must not block a provider for good: start it over.
    const doc = parsed.success ? parsed.data : { leases: {}, starts: [] };
    const leases = Object.fromEntries(Object.entries(doc.leases).filter(([, until]) => until > now));
    if (key in leases) return { granted: true };
    const starts = doc.starts.filter((t) => t > now - WINDOW_MS).sort((a, b) => a - b);
    const { maxConcurrent, requestsPerMinute } = limits;
    const waits: number[] = [];
    if (maxConcurrent !== undefined && Object.keys(leases).length >= maxConcurrent) {
      waits.push(Math.min(recheckMs, Math.min(...Object.values(leases)) - now));
    }
    if (requestsPerMinute !== undefined && starts.length >= requestsPerMinute) {
      waits.push(starts[starts.length - requestsPerMinute]! + WINDOW_MS - now);
    }
    if (waits.length) return { granted: false, retryAfterMs: Math.max(1, ...waits) };
    tx.set(slotRef(provider), { leases: { ...leases, [key]: leaseUntil }, starts: [...starts, now] });
    return { granted: true };
  });
}

/** The caps that apply to a provider's video tasks now; undefined when it has none. */
export async function videoLimitsOf(provider: string): Promise<ProviderLimits | undefined> {
  const limits = providerLimitsFor(provider, (await getRuntimeConfig()).providerLimits, "video");
  return isCapped(limits) ? limits : undefined;
}

/**
 * Gives a job's slot back (one write, no read; a no-op for a job without one). Never fails the
 * caller: a lease not released lapses at the job's deadline.
 */
export async function releaseVideoSlot(provider: string, jobId: string): Promise<void> {
  try {
    if (!(await videoLimitsOf(provider))) return;
    await slotRef(provider).set({ leases: { [leaseKeyOf(jobId)]: FieldValue.delete() } }, { merge: true });
  } catch (error) {
    logs.providerSlotNotReleased(provider, errorSummary(error).errorCode);
  }
}
