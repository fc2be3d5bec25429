/**
 * Downloads a provider's result at once (their URLs expire: BFL's after 10 minutes), streaming
 * with a byte cap, and never sending our credentials to the delivery host unless told to.
 */
import { ProviderHttpError, providerFetch, isLoopback } from "./http.js";
import { ProviderFailure } from "./types.js";

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

const tooLarge = (providerName: string) =>
  new ProviderFailure({ kind: "permanent", message: `${providerName} returned a result larger than we accept.`, providerCode: "result-too-large" });
