/**
 * The one HTTP helper every fetch-based adapter uses: a timeout on every call (AbortSignal),
 * bounded retries with backoff for idempotent calls only (a submit that may have been accepted is
 * never blindly retried), `retry-after-ms` / `Retry-After` honoured, JSON bodies parsed with zod,
 * and HTTP failures turned into ProviderErrors without ever copying a response body (an adapter
 * may ask for the provider's error code from it: only that code is kept).
 */
import type { z } from "zod";
import { ProviderFailure, type ProviderError, type ProviderErrorKind } from "./types.js";

export interface HttpRequest {
  url: string;
  method?: "GET" | "POST" | "DELETE";
  headers?: Record<string, string>;
  body?: string | FormData | Uint8Array;
  /** Per attempt. */
  timeoutMs?: number;
  /** Only GETs and other calls that cannot start paid work twice may be retried. */
  idempotent?: boolean;
  maxRetries?: number;
  /** The job's overall deadline. */
  signal?: AbortSignal;
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * For providers whose error code says more than the HTTP status (moderation, billing): picks the
   * code out of a non-2xx body (parsed JSON, or undefined). Only the code is kept, on
   * ProviderHttpError.code; the body text is never kept, logged or put in a message.
   */
  errorCode?: (body: unknown) => string | number | undefined;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_HONOURED_WAIT_MS = 60_000; // longer waits than this are not worth holding a job for
const MAX_ERROR_BODY_BYTES = 64 * 1024; // an error envelope is small; a huge body is not worth reading

export class ProviderHttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
    readonly requestId: string | undefined,
    /** The provider's own error code, when the request asked for it (HttpRequest.errorCode). */
    readonly code?: string,
  ) {
    super(`provider answered HTTP ${status}`);
    this.name = "ProviderHttpError";
  }
}

/** Default HTTP status classes (shared/providers/README.md "classify"); adapters refine by body. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 402) return "quota";
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) return "retryable";
  return "permanent";
}

export function parseRetryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.get("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get("retry-after");
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Capped exponential backoff with full jitter. */
export const backoffMs = (attempt: number, baseMs = 500, capMs = 8_000) => Math.random() * Math.min(capMs, baseMs * 2 ** attempt);

/** Fetches, returning the Response only when it is 2xx; throws ProviderHttpError otherwise. */
export async function providerFetch(req: HttpRequest): Promise<Response> {
  const doFetch = req.fetch ?? fetch;
  const retries = req.idempotent ? (req.maxRetries ?? 2) : 0;
  for (let attempt = 0; ; attempt++) {
    const timeout = AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let failure: unknown;
    try {
      const res = await doFetch(req.url, { method: req.method ?? "GET", headers: req.headers, body: req.body, signal, redirect: "error" });
      if (res.ok) return res;
      failure = await httpError(res, req.errorCode);
    } catch (error) {
      if (req.signal?.aborted) throw req.signal.reason;
      failure = error;
    }
    const retryable = failure instanceof ProviderHttpError ? kindForStatus(failure.status) === "retryable" : isNetworkError(failure);
    if (attempt >= retries || !retryable) throw failure;
    const wait = failure instanceof ProviderHttpError && failure.retryAfterMs !== undefined ? failure.retryAfterMs : backoffMs(attempt);
    if (wait > MAX_HONOURED_WAIT_MS) throw failure;
    await sleep(wait, req.signal);
  }
}

/** Fetches and parses a JSON body with `schema`; a malformed body is a retryable provider fault. */
export async function providerJson<S extends z.ZodType>(req: HttpRequest, schema: S): Promise<z.infer<S>> {
  const res = await providerFetch(req);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw malformed();
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw malformed();
  return parsed.data;
}

/**
 * The error for a non-2xx answer. The body may quote our request: it is cancelled unread, unless
 * the adapter wants its error code, when a bounded prefix is parsed and only the code (and a
 * `request_id`, DashScope's and Kling's) is kept.
 */
async function httpError(res: Response, errorCode: HttpRequest["errorCode"]): Promise<ProviderHttpError> {
  const body = errorCode ? await readJsonPrefix(res) : (await res.body?.cancel(), undefined);
  const code = errorCode?.(body);
  const bodyRequestId = (body as { request_id?: unknown } | undefined)?.request_id;
  const requestId =
    (typeof bodyRequestId === "string" ? bodyRequestId : undefined) ?? res.headers.get("x-request-id") ?? res.headers.get("trace-id") ?? undefined; // trace-id: MiniMax
  return new ProviderHttpError(res.status, parseRetryAfterMs(res.headers), requestId, code === undefined ? undefined : String(code));
}

/** The first MAX_ERROR_BODY_BYTES of a body as JSON; undefined when unreadable or not JSON. */
async function readJsonPrefix(res: Response): Promise<unknown> {
  const reader = res.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      chunks.push(chunk.value);
      total += chunk.value.byteLength;
      if (total >= MAX_ERROR_BODY_BYTES) break;
    }
    return JSON.parse(Buffer.concat(chunks, total).subarray(0, MAX_ERROR_BODY_BYTES).toString("utf8"));
  } catch {
    return undefined;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const malformed = () =>
  new ProviderFailure({ kind: "retryable", message: "The provider sent a response we could not read.", providerCode: "malformed-response" });

function isNetworkError(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === "TimeoutError" || name === "AbortError" || error instanceof TypeError; // fetch failed
}

/**
 * The shared part of every adapter's classify(): HTTP status and network faults. Adapters call it
 * after handling their own body-level codes (or through classifyWithCode); messages are ours,
 * never the provider's.
 */
export function classifyTransport(error: unknown, providerName: string): ProviderError {
  if (error instanceof ProviderFailure) return error.error;
  if (error instanceof ProviderHttpError) {
    const kind = kindForStatus(error.status);
    const message =
      kind === "quota"
        ? `${providerName} has no credit or quota left.`
        : kind === "retryable"
          ? `${providerName} is busy or unavailable; try again shortly.`
          : error.status === 401 || error.status === 403
            ? `${providerName} refused our credentials.`
            : `${providerName} could not process this photo.`;
    return { kind, message, httpStatus: error.status, retryAfterMs: error.retryAfterMs, requestId: error.requestId };
  }
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError") return { kind: "retryable", message: `${providerName} did not answer in time.`, providerCode: "timeout" };
  if (isNetworkError(error)) return { kind: "retryable", message: `${providerName} could not be reached.`, providerCode: "network" };
  return { kind: "permanent", message: `${providerName} failed unexpectedly.`, providerCode: "unexpected" };
}

/**
 * classify() for adapters that ask for error codes (HttpRequest.errorCode): a known code's kind and
 * message win over the status's; status, Retry-After and request id are kept either way.
 */
export function classifyWithCode(error: unknown, providerName: string, errorForCode: (code: string) => ProviderError | undefined): ProviderError {
  const transport = classifyTransport(error, providerName);
  if (!(error instanceof ProviderHttpError && error.code !== undefined)) return transport;
  return { ...transport, providerCode: error.code, ...errorForCode(error.code) };
}

/** A URL the adapter will send our credential to must be on the provider's own host(s). */
export function assertProviderHost(url: string, allowedHosts: (host: string) => boolean, providerName: string): URL {
  const parsed = new URL(url);
  if (!allowedHosts(parsed.host) || (parsed.protocol !== "https:" && !isLoopback(parsed.hostname))) {
    throw new ProviderFailure({ kind: "permanent", message: `${providerName} pointed us at an unexpected host.`, providerCode: "foreign-host" });
  }
  return parsed;
}

export const isLoopback = (hostname: string) => hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]" || hostname === "::1";

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
