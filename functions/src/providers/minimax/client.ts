/**
 * The one MiniMax client both adapters (image index.ts, video video.ts) use: the base URL
 * (`MINIMAX_BASE_URL`), Bearer auth (sent to MiniMax's API host only, never to a delivery host),
 * the `base_resp` envelope (business errors arrive as HTTP 200 with a non-zero `status_code`), the
 * code kept from non-2xx bodies (api.ts errorCodeOf), and classification by that code.
 */
import type { z } from "zod";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, ProviderHttpError, providerJson, type HttpRequest } from "../http.js";
import type { ProviderError } from "../types.js";
import { DEFAULT_BASE_URL, errorCodeOf, errorForCode, NAME } from "./api.js";

export interface MinimaxClientOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

type Envelope = { base_resp?: { status_code: number } | null };

export function createMinimaxClient(options: MinimaxClientOptions) {
  const baseUrl = options.baseUrl ?? providerBaseUrl("minimax", DEFAULT_BASE_URL);
  const apiHost = new URL(baseUrl).host;
  const auth = { authorization: `Bearer ${options.apiKey}` };

  return {
    fetch: options.fetch,

    /**
     * Calls MiniMax at `path`; a non-zero `base_resp` (HTTP 200 or not) reaches classify() as
     * ProviderHttpError.code, unless `acceptCode` says the body carries it as an answer.
     */
    async call<S extends z.ZodType<Envelope>>(
      path: string,
      req: Omit<HttpRequest, "url" | "headers" | "fetch" | "errorCode">,
      schema: S,
      acceptCode?: (body: z.infer<S>) => boolean,
    ): Promise<z.infer<S>> {
      const headers = { ...auth, accept: "application/json", ...(req.body !== undefined && { "content-type": "application/json" }) };
      const body = await providerJson({ ...req, url: `${baseUrl}${path}`, headers, fetch: options.fetch, errorCode: errorCodeOf }, schema);
      const code = body.base_resp?.status_code ?? 0;
      if (code !== 0 && !acceptCode?.(body)) throw new ProviderHttpError(200, undefined, undefined, String(code));
      return body;
    },

    /** Our key for a result URL only when it is on MiniMax's own API host. */
    headersFor: (url: URL) => (url.host === apiHost ? auth : undefined),

    /** The body's code says more than the HTTP status; the status still carries Retry-After. */
    classify: (error: unknown, mapCode: (code: number) => ProviderError | undefined = errorForCode): ProviderError =>
      classifyWithCode(error, NAME, (code) => mapCode(Number(code))),
  };
}
