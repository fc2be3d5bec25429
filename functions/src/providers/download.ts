/**
 * Downloads a provider's result at once (their URLs expire: BFL's after 10 minutes), streaming
 * with a byte cap, and never sending our credentials to the delivery host unless told to.
 */
import { maxResultBytes } from "../config/params.js";
import { sniffImageType } from "../images/sniff.js";
import { ProviderHttpError, providerFetch, isLoopback } from "./http.js";
import { ProviderFailure, type Outcome, type ResultImage, type VideoProvider, type VideoResultRef } from "./types.js";

export interface DownloadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Only for providers whose delivery host is their own API host and wants the key. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export async function downloadResult(url: string, providerName: string, options: DownloadOptions): Promise<Uint8Array> {
  const { headers, signal, fetch } = options;
  const res = await fetchResult(url, providerName, { headers, signal, fetch, timeoutMs: options.timeoutMs ?? 60_000 });
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await res.body?.cancel();
    throw tooLarge(providerName);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > options.maxBytes) throw tooLarge(providerName);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export interface ResultFetchOptions {
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Headers per result URL: our key goes only to a provider's own API host (MiniMax), never a CDN. */
  headersFor?: (url: URL) => Record<string, string> | undefined;
  /**
   * How downloaded bytes are labelled: the one mime the provider delivers, or a function (checks
   * such as a cutout's transparency). Default: sniffedResult.
   */
  mime?: ResultImage["mime"] | ((bytes: Uint8Array, declaredMime: string) => ResultImage);
}

/**
 * The common ImageProvider.fetchResult(): inline bytes are checked against the result cap, URLs
 * downloaded at once (they expire). Width and height are 0: the job's verifyResult reads them.
 */
export async function fetchResultImages(
  outcome: Extract<Outcome, { state: "succeeded" }>,
  providerName: string,
  options: ResultFetchOptions = {},
): Promise<ResultImage[]> {
  const maxBytes = maxResultBytes();
  const { mime = sniffedResult } = options;
  return Promise.all(
    outcome.images.map(async (image) => {
      if ("bytes" in image) {
        if (image.bytes.byteLength > maxBytes) throw tooLarge(providerName);
        return image;
      }
      const headers = options.headersFor?.(new URL(image.url));
      const bytes = await downloadResult(image.url, providerName, { maxBytes, signal: options.signal, headers, fetch: options.fetch });
      return typeof mime === "function" ? mime(bytes, image.mime) : { bytes, mime, width: 0, height: 0 };
    }),
  );
}

/** Labels result bytes by their magic number, JPEG when unsure (anything else then fails verification). */
export function sniffedResult(bytes: Uint8Array): ResultImage {
  const sniffed = sniffImageType(bytes);
  const mime = sniffed === "image/png" || sniffed === "image/webp" ? sniffed : "image/jpeg";
  return { bytes, mime, width: 0, height: 0 };
}

/**
 * Fetches a result URL with idempotent retries: https only (loopback for fakes), and
 * 401/403/404/410 mean the URL has expired or was purged, a permanent `result-expired`.
 */
async function fetchResult(
  url: string,
  providerName: string,
  options: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs: number; fetch?: typeof fetch },
): Promise<Response> {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopback(parsed.hostname))) {
    throw new ProviderFailure({
      kind: "permanent",
      message: `${providerName} returned a result we cannot fetch securely.`,
      providerCode: "insecure-result-url",
    });
  }
  try {
    return await providerFetch({ url, headers: options.headers, signal: options.signal, timeoutMs: options.timeoutMs, idempotent: true, fetch: options.fetch });
  } catch (error) {
    if (error instanceof ProviderHttpError && [401, 403, 404, 410].includes(error.status)) {
      throw new ProviderFailure({
        kind: "permanent",
        message: `${providerName}'s result expired before we could fetch it.`,
        providerCode: "result-expired",
        httpStatus: error.status,
      });
    }
    throw error;
  }
}

export type OpenedResult = Awaited<ReturnType<VideoProvider["openResult"]>>;

export interface OpenResultOptions extends Pick<ResultFetchOptions, "signal" | "fetch" | "headersFor"> {
  /** Per attempt; it also bounds reading the body, so the default (5 minutes) lets a whole clip stream. */
  timeoutMs?: number;
}

/**
 * The common VideoProvider.openResult() for providers whose results are URLs: streams the URL as
 * downloadResult fetches it (https only, expiry is a permanent `result-expired`), with a
 * credential only where `headersFor` gives one (a provider's own API host, never a CDN).
 */
export async function openResultStream(result: VideoResultRef, providerName: string, options: OpenResultOptions = {}): Promise<OpenedResult> {
  if (!("url" in result))
    throw new ProviderFailure({ kind: "permanent", message: `${providerName} results are URLs only.`, providerCode: "unsupported-result" });
  const headers = options.headersFor?.(new URL(result.url));
  const res = await fetchResult(result.url, providerName, {
    headers,
    signal: options.signal,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
  });
  if (!res.body) throw new ProviderFailure({ kind: "retryable", message: `${providerName} sent an empty result.`, providerCode: "empty-result" });
  const length = Number(res.headers.get("content-length"));
  return {
    body: res.body,
    contentType: res.headers.get("content-type") ?? undefined,
    ...(res.headers.has("content-length") && Number.isFinite(length) && { contentLength: length }),
  };
}

/** A result the provider returned inline, as a one-chunk stream, so the job handles every result the same way. */
export function bytesResultStream(bytes: Uint8Array, contentType: string): OpenedResult {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return { body, contentType, contentLength: bytes.byteLength };
}

const tooLarge = (providerName: string) =>
  new ProviderFailure({ kind: "permanent", message: `${providerName} returned a result larger than we accept.`, providerCode: "result-too-large" });
