/**
 * Downloads a provider's result at once (their URLs expire: BFL's after 10 minutes), streaming
 * with a byte cap, and never sending our credentials to the delivery host unless told to.
 */
import { maxResultBytes } from "../config/params.js";
import { sniffImageType } from "../images/sniff.js";
import { ProviderHttpError, providerFetch, isLoopback } from "./http.js";
import { ProviderFailure, type Outcome, type ResultImage } from "./types.js";

export interface DownloadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Only for providers whose delivery host is their own API host and wants the key. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export async function downloadResult(url: string, providerName: string, options: DownloadOptions): Promise<Uint8Array> {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopback(parsed.hostname))) {
    throw new ProviderFailure({ kind: "permanent", message: `${providerName} returned a result we cannot fetch securely.`, providerCode: "insecure-result-url" });
  }
  let res: Response;
  try {
    res = await providerFetch({ url, headers: options.headers, signal: options.signal, timeoutMs: options.timeoutMs ?? 60_000, idempotent: true, fetch: options.fetch });
  } catch (error) {
    if (error instanceof ProviderHttpError && [401, 403, 404, 410].includes(error.status)) {
      throw new ProviderFailure({ kind: "permanent", message: `${providerName}'s result expired before we could fetch it.`, providerCode: "result-expired", httpStatus: error.status });
    }
    throw error;
  }
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
export async function fetchResultImages(outcome: Extract<Outcome, { state: "succeeded" }>, providerName: string, options: ResultFetchOptions = {}): Promise<ResultImage[]> {
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

const tooLarge = (providerName: string) =>
  new ProviderFailure({ kind: "permanent", message: `${providerName} returned a result larger than we accept.`, providerCode: "result-too-large" });
