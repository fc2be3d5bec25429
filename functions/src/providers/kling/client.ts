/**
 * The one Kling API client both adapters (image index.ts, video video.ts) use: the base URL, a
 * fresh JWT per call (jwt.ts: never one that expires while a job polls), the envelope (a non-zero
 * `code` is an error even with HTTP 200), the one re-sign on 1003/1004 for idempotent reads, and
 * the classification of Kling's service codes (api.ts).
 */
import type { z } from "zod";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, ProviderHttpError, providerJson, type HttpRequest } from "../http.js";
import { ProviderFailure, type ProviderError } from "../types.js";
import { errorCodeOf, errorForCode, isTokenRejected, NAME } from "./api.js";
import { signKlingToken } from "./jwt.js";

export interface KlingClientOptions {
  accessKey: string;
  secretKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

type Envelope = { code: number; request_id?: string; data?: unknown };
type Call = Omit<HttpRequest, "headers" | "fetch" | "errorCode">;

export function createKlingClient(options: KlingClientOptions) {
  const baseUrl = options.baseUrl ?? providerBaseUrl("kling", "https://api-singapore.klingai.com");

  /**
   * Calls Kling and unwraps its envelope: a non-zero `code` is an error even with HTTP 200, and a
   * non-2xx body's code is kept too (errorCodeOf), so both reach classify() as ProviderHttpError.code.
   */
  async function call<S extends z.ZodType<Envelope>>(req: Call, schema: S): Promise<NonNullable<z.infer<S>["data"]>> {
    const headers = {
      authorization: `Bearer ${signKlingToken(options.accessKey, options.secretKey)}`,
      accept: "application/json",
      ...(req.body !== undefined && { "content-type": "application/json" }),
    };
    const body = await providerJson({ ...req, headers, fetch: options.fetch, errorCode: errorCodeOf }, schema);
    if (body.code !== 0) throw new ProviderHttpError(200, undefined, body.request_id, String(body.code));
    if (!body.data) throw new ProviderFailure({ kind: "retryable", message: `${NAME} sent a response we could not read.`, providerCode: "malformed-response" });
    return body.data as NonNullable<z.infer<S>["data"]>;
  }

  /** An idempotent read (a status poll): on 1003/1004 (our token not yet valid at Kling's clock) re-signed once. */
  async function read<S extends z.ZodType<Envelope>>(url: string, schema: S, signal?: AbortSignal): Promise<NonNullable<z.infer<S>["data"]>> {
    const get = () => call({ url, signal, timeoutMs: 30_000, idempotent: true }, schema);
    try {
      return await get();
    } catch (error) {
      if (!(error instanceof ProviderHttpError && isTokenRejected(Number(error.code)))) throw error;
      return get();
    }
  }

  return {
    baseUrl,
    call,
    read,
    fetch: options.fetch,
    classify: (error: unknown): ProviderError => classifyWithCode(error, NAME, (code) => errorForCode(Number(code))),
  };
}
