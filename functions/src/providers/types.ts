/**
 * The one interface every AI provider adapter implements (shared/providers/README.md, "Common shape").
 * Sync providers return the final Outcome from submit(); async ones return a JobRef to poll.
 */
export const FEATURES = ["edit", "style", "cutout", "enhance", "video"] as const;
export type Feature = (typeof FEATURES)[number];
export type ImageFeature = Exclude<Feature, "video">;

export type ImageMime = "image/jpeg" | "image/png" | "image/webp" | "image/heic" | "image/heif";

export interface InputImage {
  bytes: Uint8Array;
  mime: ImageMime;
  width: number;
  height: number;
}

export interface ImageRequest {
  feature: ImageFeature;
  model: string;
  image: InputImage;
  prompt?: string;
  style?: string;
  options?: Record<string, unknown>;
  /** The job's id: stable per job, for provider idempotency keys (Kling external_task_id). */
  jobId?: string;
}

export interface ResultImage {
  bytes: Uint8Array;
  mime: "image/jpeg" | "image/png" | "image/webp";
  width: number;
  height: number;
}

/** An opaque handle to work running at the provider; JSON-serialisable, never holds credentials. */
export interface JobRef {
  provider: string;
  id: string;
  pollUrl?: string;
  region?: string;
  submittedAt: number;
}

export type ProviderErrorKind = "retryable" | "permanent" | "policy_rejected" | "quota";

export interface ProviderError {
  kind: ProviderErrorKind;
  message: string;
  httpStatus?: number;
  providerCode?: string;
  retryAfterMs?: number;
  requestId?: string;
}

export type Outcome =
  | { state: "running"; progress?: number }
  | { state: "succeeded"; images: ResultImage[] | { url: string; mime: string; expiresAt?: number }[] }
  | { state: "failed"; error: ProviderError };

export interface ProviderModels {
  /** Default model per feature this provider serves; a feature missing here is not served. */
  defaults: Partial<Record<Feature, string>>;
  /** Every model id this adapter accepts. */
  allowed: readonly string[];
}

/** How an async provider is polled inside the job (shared/providers/README.md: 1 s → 5–10 s). */
export interface PollingPolicy {
  startMs: number;
  maxMs: number;
  factor: number;
  /** Give up after this long; the job ends failed with deadline-exceeded. */
  deadlineMs: number;
}

export interface ImageProvider {
  readonly id: string;
  readonly models: ProviderModels;
  /** Async providers only; defaults in jobs/runProvider.ts. */
  readonly polling?: Partial<PollingPolicy>;
  submit(req: ImageRequest, signal?: AbortSignal): Promise<JobRef | Outcome>;
  poll(job: JobRef, signal?: AbortSignal): Promise<Outcome>;
  /** Downloads (if needed) and verifies result bytes at once: provider URLs expire. */
  fetchResult(outcome: Extract<Outcome, { state: "succeeded" }>, signal?: AbortSignal): Promise<ResultImage[]>;
  cancel?(job: JobRef): Promise<void>;
  /** Reduces any thrown error to a ProviderError, in this one place per provider. */
  classify(error: unknown): ProviderError;
}

/** Thrown by adapters; carries the classified error so the job can end in the right terminal state. */
export class ProviderFailure extends Error {
  constructor(readonly error: ProviderError) {
    super(error.message);
    this.name = "ProviderFailure";
  }
}
