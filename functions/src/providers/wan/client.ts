/**
 * The one DashScope client both Wan adapters (image index.ts, video video.ts) use: the regional
 * base URL (`WAN_BASE_URL`), Bearer auth, async task start (`X-DashScope-Async: enable`), task
 * reads and cancel at `/api/v1/tasks/{id}`, and DashScope's error code kept from every non-2xx
 * body (api.ts errorCodeOf) for classify().
 */
import type { z } from "zod";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyWithCode, providerFetch, providerJson } from "../http.js";
import type { ProviderError } from "../types.js";
import { errorCodeOf, errorForCode, NAME } from "./api.js";

export const WAN_HOSTS = { international: "https://dashscope-intl.aliyuncs.com", china: "https://dashscope.aliyuncs.com" } as const;

export interface WanClientOptions {
  apiKey: string;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export function createWanClient(options: WanClientOptions) {
  const baseUrl = options.baseUrl ?? providerBaseUrl("wan", WAN_HOSTS.international);
  const auth = { authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
  const api = { fetch: options.fetch, errorCode: errorCodeOf };
  const taskUrl = (taskId: string) => `${baseUrl}/api/v1/tasks/${encodeURIComponent(taskId)}`;

  return {
    fetch: options.fetch,

    /** Starts an async task. Not idempotent: DashScope has no idempotency key, and a retry could bill a second task. */
    startTask: <S extends z.ZodType>(path: string, body: unknown, schema: S, signal?: AbortSignal): Promise<z.infer<S>> =>
      providerJson(
        {
          url: `${baseUrl}${path}`,
          method: "POST",
          headers: { ...auth, "content-type": "application/json", "x-dashscope-async": "enable" },
          body: JSON.stringify(body),
          signal,
          timeoutMs: 60_000,
          ...api,
        },
        schema,
      ),

    /** One status read: idempotent, so retried by http.ts. */
    readTask: <S extends z.ZodType>(taskId: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> =>
      providerJson({ url: taskUrl(taskId), headers: auth, signal, timeoutMs: 30_000, idempotent: true, ...api }, schema),

    /**
     * Stops a task still PENDING; for others DashScope answers an error, which the callers (deadline,
     * user cancel) ignore. Asking twice cannot bill twice, so retries are safe.
     */
    async cancelTask(taskId: string, timeoutMs: number): Promise<void> {
      const res = await providerFetch({ url: `${taskUrl(taskId)}/cancel`, method: "POST", headers: auth, timeoutMs, idempotent: true, ...api });
      await res.body?.cancel();
    },

    /** Classifies with `mapCode` (the video adapter words a few codes its own way), api.ts errorForCode by default. */
    classify: (error: unknown, mapCode: (code: string | undefined) => ProviderError | undefined = errorForCode): ProviderError =>
      classifyWithCode(error, NAME, mapCode),
  };
}
