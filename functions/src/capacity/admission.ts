/**
 * Admission control (ARCHITECTURE §10 Capacity; docs/CAPACITY.md): an instance never takes more
 * work than its memory holds. Each request is charged what it will hold at its peak, estimated
 * before anything is decoded, against an in-process budget. When the budget is full a request
 * waits, first come first served, for at most ADMISSION_WAIT_MS; then it is refused with
 * `unavailable` / `instance-busy` and `retryAfterSeconds`, before any job exists or quota is counted.
 *
 * Why `unavailable`: it is the canonical "transient, retry with backoff" code, the one clients
 * already retry for a provider outage. `resource-exhausted` means the user's own quota here
 * (ARCHITECTURE §3): a user who is told so waits an hour, while a busy instance frees in seconds.
 *
 * The queue is strict FIFO: a large request at the head holds back smaller ones behind it, so a
 * stream of small photos can never starve a maximum-size one. A request larger than the whole
 * budget is charged the whole budget: it runs alone, once the instance is otherwise idle.
 */
import { AppError } from "../errors.js";
import type { Dimensions } from "../images/dimensions.js";

const MB = 1_000_000;

export type Release = () => void;

export interface GateOptions {
  budgetBytes: number;
  maxWaitMs: number;
}

interface Waiter {
  charge: number;
  admit: () => void;
}

/** Pure: no I/O, no settings; a clock for the hold times that drive `retryAfterSeconds`. */
export class MemoryGate {
  private used = 0;
  private readonly queue: Waiter[] = [];
  /** Smoothed time a grant is held, for the retry hint. */
  private holdMs = 5_000;

  constructor(
    readonly options: GateOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get inUse() {
    return this.used;
  }

  get waiting() {
    return this.queue.length;
  }

  /** What a request of `bytes` is charged: never more than the budget, so it can always run alone. */
  chargeFor(bytes: number) {
    return Math.min(Math.max(0, Math.ceil(bytes)), this.options.budgetBytes);
  }

  /**
   * Resolves with a release once `bytes` fit, in arrival order; rejects with AppError
   * `unavailable` / `instance-busy` after `maxWaitMs`, or at once when `maxWaitMs` is 0. A request
   * whose `signal` aborts (the client went away) leaves the queue and rejects with the same error.
   * The release is idempotent; call it in a `finally`.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<Release> {
    const charge = this.chargeFor(bytes);
    if (this.queue.length === 0 && this.fits(charge)) return Promise.resolve(this.grant(charge));
    if (this.options.maxWaitMs <= 0 || signal?.aborted) return Promise.reject(this.refusal());
    return new Promise<Release>((resolve, reject) => {
      const leave = () => {
        const at = this.queue.indexOf(waiter);
        if (at < 0) return;
        this.queue.splice(at, 1);
        clearTimeout(timer);
        reject(this.refusal());
        this.pump(); // the head may have been what held the others back
      };
      const waiter: Waiter = {
        charge,
        admit: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", leave);
          resolve(this.grant(charge));
        },
      };
      const timer = setTimeout(leave, this.options.maxWaitMs);
      signal?.addEventListener("abort", leave, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Admits from the head of the queue while the head fits. */
  private pump() {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.charge)) this.queue.shift()!.admit();
  }

  private fits(charge: number) {
    return this.used === 0 || this.used + charge <= this.options.budgetBytes;
  }

  private grant(charge: number): Release {
    this.used += charge;
    const since = this.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= charge;
      this.holdMs = 0.8 * this.holdMs + 0.2 * (this.now() - since);
      this.pump();
    };
  }

  /** Retry once about one job's hold time has passed: 1 to 30 seconds. */
  retryAfterSeconds() {
    return Math.min(30, Math.max(1, Math.ceil(this.holdMs / 1000)));
  }

  private refusal() {
    const retryAfterSeconds = this.retryAfterSeconds();
    return new AppError("unavailable", `The service is busy right now; try again in ${retryAfterSeconds} seconds`, "instance-busy", { retryAfterSeconds });
  }
}

// ------------------------------------------------------------------ what a request will hold

/**
 * One image job's peak growth above the idle process: ARCHITECTURE §10's 1.5 decoded RGB rasters
 * plus 2.5x the file rather than 2x (the parsed request's base64 string is 1.33x and the decoded
 * bytes 1x before anything else, which decides for a PNG whose raster is about its file), plus a
 * floor for what every job holds, plus the raw pixels an in-process provider's effect keeps whole
 * (`heldBytesPerPixel`, declared by its descriptor: the local provider's pop-art, enhance, noir,
 * and cutout's RGBA PNG result).
 * bench/imageMemory.ts calls createJobBytes on its request and fails a row whose growth exceeds it
 * (a 4.6 MP PNG: +52 MB of 65; a 22 MP JPEG: +93 of 144; pop-art's +150 to +181 MB of 210). Charged whether
 * or not the provider decodes (third-party providers get the bytes undecoded): the gate errs on
 * the safe side.
 */
export function imageJobBytes(fileBytes: number, dims: Dimensions, heldBytesPerPixel = 0): number {
  return (1.5 * 3 + heldBytesPerPixel) * dims.width * dims.height + 2.5 * fileBytes + JOB_FLOOR_BYTES;
}

/** What any job holds besides its photo (sharp's working buffers, the RPCs): ~8 MB measured for 1 MP. */
const JOB_FLOOR_BYTES = 8_000_000;

/** An upload holds its body once (busboy hands out slices of it; Storage gets chunks in flight). */
export const uploadBytes = (bodyBytes: number) => bodyBytes;

// ------------------------------------------------------------------ the runtime wrapper

export type GatedFunction = "createJob" | "uploadImage";
const gates = new Map<GatedFunction, MemoryGate>();

/** One gate per function and process; rebuilt (only while idle) when its settings change. */
export async function gateFor(fn: GatedFunction): Promise<MemoryGate> {
  const { settings } = await import("../config/params.js");
  const s = settings();
  const options = { budgetBytes: (fn === "createJob" ? s.createJobAdmissionMb : s.uploadAdmissionMb) * MB, maxWaitMs: s.admissionWaitMs };
  const current = gates.get(fn);
  const same = current && current.options.budgetBytes === options.budgetBytes && current.options.maxWaitMs === options.maxWaitMs;
  if (current && (same || current.inUse > 0 || current.waiting > 0)) return current;
  const gate = new MemoryGate(options);
  gates.set(fn, gate);
  return gate;
}

/** Runs `work` once `bytes` are admitted and releases them on every path (success, failure, throw). */
export async function withAdmission<T>(fn: GatedFunction, bytes: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const gate = await gateFor(fn);
  const waitedFrom = gate.waiting > 0 || gate.inUse > 0 ? Date.now() : undefined;
  let release: Release;
  try {
    release = await gate.acquire(bytes, signal);
  } catch (error) {
    (await import("../logging/logs.js")).admissionRefused(fn, Math.round(bytes / MB), Math.round(gate.inUse / MB), gate.waiting);
    throw error;
  }
  if (waitedFrom !== undefined && Date.now() - waitedFrom >= 5) {
    (await import("../logging/logs.js")).admissionWaited(fn, Math.round(bytes / MB), Date.now() - waitedFrom);
  }
  try {
    return await work();
  } finally {
    release();
  }
}

/**
 * What a createJob request will hold, from the unparsed request (malformed ones cost nothing: the
 * handler refuses them before reading any image). Inline: the base64 string's length gives the
 * file's size and its first bytes the dimensions. Upload: the object's size and first bytes, read
 * from Storage without taking the upload, so a refused request leaves it for the retry. Where the
 * header does not give the dimensions early, the pixel cap is assumed. The provider's held pixels
 * come from the request's feature, style and prompt (`heldPixelsOf`).
 */
export async function createJobBytes(uid: string, data: unknown): Promise<number> {
  const request = (data ?? {}) as { image?: unknown; provider?: unknown; feature?: unknown; style?: unknown; prompt?: unknown };
  const image = request.image as { base64?: unknown; uploadId?: unknown } | undefined;
  const { maxResultBytes, settings } = await import("../config/params.js");
  const s = settings();
  const unknownDims = { width: s.maxImagePixels, height: 1 };
  const charge = async (fileBytes: number, head: Uint8Array) => {
    const dims = (await dimensionsOf(head)) ?? unknownDims;
    return imageJobBytes(fileBytes, dims, await heldPixelsOf(request, dims, { maxPixels: s.maxImagePixels, maxResultBytes: maxResultBytes(s) }));
  };
  if (typeof image?.base64 === "string") {
    const padding = image.base64.endsWith("==") ? 2 : image.base64.endsWith("=") ? 1 : 0;
    const fileBytes = Math.floor((image.base64.length * 3) / 4) - padding;
    return charge(fileBytes, Buffer.from(image.base64.slice(0, HEAD_BYTES * (4 / 3)), "base64"));
  }
  if (typeof image?.uploadId === "string" && /^[A-Za-z0-9_-]{16,64}$/.test(image.uploadId)) {
    const { transientPaths } = await import("../storage/paths.js");
    const { readTransientHead } = await import("../storage/transientStore.js");
    const upload = await readTransientHead(transientPaths.upload(uid, image.uploadId), HEAD_BYTES, uid);
    if (!upload) return 0; // createJob answers not-found
    return charge(upload.size, upload.head);
  }
  return 0;
}

/**
 * The most raw pixels (bytes per pixel) any provider that may run the request holds: the one it
 * names (a named provider gets no fallback), else any enabled one, since default routing and its
 * automatic fallback (jobs/route.ts) only ever pick among config/runtime's enabled providers. That
 * document is cached in-process and createJob reads it next anyway; if it cannot be read, every
 * provider is assumed (createJob then fails on the same read).
 */
async function heldPixelsOf(
  request: { provider?: unknown; feature?: unknown; style?: unknown; prompt?: unknown },
  dims: Dimensions,
  caps: { maxPixels: number; maxResultBytes: number },
): Promise<number> {
  const { isProviderId, PROVIDERS } = await import("../providers/catalog.js");
  const named = request.provider;
  const ids = named === undefined ? await enabledProviders(Object.keys(PROVIDERS)) : typeof named === "string" ? [named] : [];
  const candidates = ids.filter(isProviderId).map((id) => PROVIDERS[id]);
  const held = { feature: request.feature, style: request.style, prompt: request.prompt, width: dims.width, height: dims.height, ...caps };
  const perProvider = await Promise.all(candidates.map(async (d) => (await d.imageHeldBytesPerPixel?.(held)) ?? 0));
  return Math.max(0, ...perProvider);
}

async function enabledProviders(all: string[]): Promise<readonly string[]> {
  const { getRuntimeConfig } = await import("../config/runtimeConfig.js");
  return getRuntimeConfig().then(
    (config) => config.enabledProviders,
    () => all,
  );
}

/** Enough for the headers of nearly every photo: EXIF (≤ 64 KiB), ICC profiles, XMP, then SOF. */
const HEAD_BYTES = 512 * 1024;

async function dimensionsOf(head: Uint8Array): Promise<Dimensions | undefined> {
  const { sniffImageType } = await import("../images/sniff.js");
  const { readImageDimensions } = await import("../images/dimensions.js");
  const mime = sniffImageType(head);
  return mime ? readImageDimensions(head, mime) : undefined;
}
