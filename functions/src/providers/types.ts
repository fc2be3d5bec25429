/**
 * The interfaces every AI provider adapter implements (shared/providers/README.md, "Common shape").
 * A sync image provider returns the finished Outcome from run(); an async one returns a JobRef from
 * submit() and is polled.
 */
import type { Feature, ImageFeature } from "../domain/features.js";

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

interface ImageProviderBase {
  readonly id: string;
  readonly models: ProviderModels;
  /** Downloads (if needed) and verifies result bytes at once: provider URLs expire. */
  fetchResult(outcome: Extract<Outcome, { state: "succeeded" }>, signal?: AbortSignal): Promise<ResultImage[]>;
  /** Reduces any thrown error to a ProviderError, in this one place per provider. */
  classify(error: unknown): ProviderError;
}

/** A provider that answers in the same call (OpenAI, Gemini, Seedream, MiniMax, Cutout.Pro, local). */
export interface SyncImageProvider extends ImageProviderBase {
  /** The finished work: the result (or a failure); there is no task to poll. */
  run(req: ImageRequest, signal?: AbortSignal): Promise<FinishedOutcome>;
}

/** A provider that starts a task and is polled (BFL, Wan, Kling; PicWish when it answers late). */
export interface AsyncImageProvider extends ImageProviderBase {
  /** Defaults in jobs/runProvider.ts. */
  readonly polling?: Partial<PollingPolicy>;
  /** A task to poll, or the finished outcome when the provider answered at once. */
  submit(req: ImageRequest, signal?: AbortSignal): Promise<JobRef | Outcome>;
  poll(job: JobRef, signal?: AbortSignal): Promise<Outcome>;
  cancel?(job: JobRef): Promise<void>;
}

export type ImageProvider = SyncImageProvider | AsyncImageProvider;
export type FinishedOutcome = Exclude<Outcome, { state: "running" }>;
export const isSyncImageProvider = (provider: ImageProvider): provider is SyncImageProvider => "run" in provider;

/** Thrown by adapters; carries the classified error so the job can end in the right terminal state. */
export class ProviderFailure extends Error {
  constructor(readonly error: ProviderError) {
    super(error.message);
    this.name = "ProviderFailure";
  }
}

// ---------------------------------------------------------------------------------------------
// Video (image-to-video): long-running, so split into start and status, polled through Cloud Tasks
// (shared/providers/VIDEO.md). Everything an adapter needs to poll, cancel or delete comes from
// the operation handle, which holds no credentials and is rebuilt from the job document alone.

export interface VideoRequest {
  model: string;
  image: InputImage;
  prompt?: string;
  /** The job's id: stable per job, for provider idempotency keys. */
  jobId: string;
  options?: Record<string, unknown>;
  /**
   * `gs://bucket/transient/results/{uid}/{jobId}/` — for providers that can write their output
   * straight into our transient area (Veo `storageUri`), so the video never passes through memory.
   */
  outputGcsPrefix?: string;
}

/** JSON-serialisable handle to the provider's task: its id (`providerTaskId`) and our model id. */
export interface VideoOperation {
  /** An opaque id, never a location (jobs/schema.ts `isOpaqueTaskId` refuses URLs and paths). */
  id: string;
  model: string;
  /**
   * On polls, the job's own `outputGcsPrefix` (as given to `start`), rebuilt from the job document:
   * a provider that wrote its output into our bucket finds it there without a location in the id.
   */
  outputGcsPrefix?: string;
}

export type VideoStatus =
  | { state: "queued" | "running"; progress?: number; raw: string }
  | { state: "succeeded"; result: VideoResultRef; raw: string }
  | { state: "failed" | "cancelled"; error: ProviderError; raw: string };

/**
 * Where the finished video is: a URL to stream from at once (with headers only when the URL is on
 * the provider's own API host), bytes the provider returned inline, or an object the provider wrote
 * under `outputGcsPrefix` in our bucket.
 */
export type VideoResultRef = { url: string; headers?: Record<string, string> } | { bytes: Uint8Array } | { gcsUri: string };

export interface VideoPollingPolicy {
  /** Delay before the first status call (VIDEO.md: ~15 s). */
  firstDelayMs: number;
  /** Delays between status calls, the last one repeating (10 → 15 → 20 → 30 s). */
  intervalsMs: number[];
  /** Give up after this long from start: the job ends expired and the task is cancelled where possible. */
  deadlineMs: number;
}

export interface VideoProvider {
  readonly id: string;
  readonly models: { default: string; allowed: readonly string[] };
  readonly polling?: Partial<VideoPollingPolicy>;
  /** Starts generation. Never retried blindly: a retry could start (and bill) a second task. */
  start(req: VideoRequest, signal?: AbortSignal): Promise<VideoOperation>;
  /** One status call; maps the provider's enum onto `VideoStatus.state` and keeps the raw value. */
  status(op: VideoOperation, signal?: AbortSignal): Promise<VideoStatus>;
  /** Opens a `url` or `bytes` result as a stream (never fully buffered); the job checks type and size. */
  openResult(result: VideoResultRef, signal?: AbortSignal): Promise<{ body: ReadableStream<Uint8Array>; contentType?: string; contentLength?: number }>;
  /** Stops a running task, where the provider documents it. */
  cancel?(op: VideoOperation): Promise<void>;
  /** Deletes the provider's copy of the task and its output after we have ours, where documented. */
  deleteTask?(op: VideoOperation): Promise<void>;
  classify(error: unknown): ProviderError;
}
