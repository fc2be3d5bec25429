/**
 * The checks every video adapter test makes the same way, whatever the provider's routes and
 * payloads: a start that fails is never resent, a status call is retried, a throttled status keeps
 * Retry-After, an unreadable or hung answer is retryable, an expired result URL is permanent and no
 * credential reaches the CDN, and unsupported photos are refused before any call. Each test file
 * keeps its own tables (error codes, statuses, options) and says which responses to script; only
 * the repeated assertions live here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../../src/errors.js";
import {
  ProviderFailure,
  type InputImage,
  type ProviderError,
  type VideoOperation,
  type VideoProvider,
  type VideoRequest,
  type VideoStatus,
} from "../../src/providers/types.js";
import { assertNoCredentialSent, type FakeResponse } from "./fakeServer.js";
import type { ProviderFakes } from "./providerFakes.js";

/** A tiny MP4 (an `ftyp` box, then filler) the fakes serve as the generated video. */
export const VIDEO = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(1000, 7)]);

export const read = async (body: ReadableStream<Uint8Array>) => Buffer.from(await new Response(body).arrayBuffer());

type Method = "GET" | "POST";
type Route = readonly [Method, string];

/** One row of a start-error table: label, the scripted answer, the expected kind, and further expected ProviderError fields. */
export type StartErrorCase = readonly [
  label: string,
  response: FakeResponse,
  kind: ProviderError["kind"],
  extra: Partial<Record<keyof ProviderError, unknown>>,
];

export interface VideoAdapterUnderTest {
  fakes: () => ProviderFakes;
  provider: () => VideoProvider;
  /** A start request the adapter accepts. */
  request: () => VideoRequest;
  /** The task the status calls ask about. */
  op: VideoOperation;
  /** Where start and status calls go on the API fake. */
  start: Route;
  status: Route;
}

export function videoAdapterKit(t: VideoAdapterUnderTest) {
  const api = () => t.fakes().api;
  const calls = ([method, path]: Route) => api().callsTo(method, path).length;

  /** The classified error a call rejects with (the adapter's classify, as the job uses it). */
  async function rejection(p: Promise<unknown>): Promise<ProviderError> {
    const error = await p.then(
      () => assert.fail("expected a rejection"),
      (e) => e,
    );
    assert.ok(!(error instanceof AppError), `unexpected AppError ${error}`);
    return t.provider().classify(error);
  }

  return {
    rejection,

    /** Polls `count` times with one provider and returns the statuses in order. */
    async pollStatuses(p: VideoProvider, count: number): Promise<VideoStatus[]> {
      const seen: VideoStatus[] = [];
      for (let i = 0; i < count; i++) seen.push(await p.status(t.op));
      return seen;
    },

    /** One test per row: the start answered so is classified `kind` (plus `extra`), in our words, and sent once. */
    testStartErrors(cases: readonly StartErrorCase[], providerText: RegExp, note = "our message, not the provider's"): void {
      for (const [label, response, kind, extra] of cases) {
        test(`start answered ${label} is ${kind} and is sent once`, async () => {
          api().on(...t.start, response);
          const error = await rejection(t.provider().start(t.request()));
          assert.equal(error.kind, kind);
          for (const [k, v] of Object.entries(extra)) assert.equal(error[k as keyof ProviderError], v);
          assert.doesNotMatch(error.message, providerText, note);
          assert.equal(calls(t.start), 1);
        });
      }
    },

    /** Malformed JSON, an answer without a task id, a dropped connection and a hang are retryable; none is resent. */
    async expectStartFailuresRetryableOnce(noTaskId: FakeResponse): Promise<void> {
      for (const response of [{ status: 200, body: "{not json", headers: { "content-type": "application/json" } }, noTaskId, { drop: true }]) {
        api().reset();
        api().on(...t.start, response);
        assert.equal((await rejection(t.provider().start(t.request()))).kind, "retryable");
        assert.equal(calls(t.start), 1);
      }
      api().on(...t.start, { hang: true });
      const error = await rejection(t.provider().start(t.request(), AbortSignal.timeout(150)));
      assert.equal(error.kind, "retryable");
      assert.equal(error.providerCode, "timeout");
    },

    /** Two failing status answers (e.g. 500, then 429 with a short Retry-After) are retried and the third answer wins. */
    async expectStatusRetried(failures: readonly [FakeResponse, FakeResponse], answer: FakeResponse, expected: VideoStatus): Promise<void> {
      api().on(...t.status, ...failures, answer);
      assert.deepEqual(await t.provider().status(t.op), expected);
      assert.equal(calls(t.status), 3);
    },

    /** A status call throttled every time (Retry-After: 0) is retried twice, then rejects retryable and keeps the delay. */
    async expectStatusThrottled(throttled: FakeResponse): Promise<void> {
      api().on(...t.status, throttled);
      const error = await rejection(t.provider().status(t.op));
      assert.equal(error.kind, "retryable");
      assert.equal(error.retryAfterMs, 0);
      assert.equal(calls(t.status), 3, "two retries, then the job backs off");
    },

    /** A status answer that is not JSON, one without a status, and a hang: malformed-response, malformed-response, timeout. */
    async expectStatusUnreadable(noStatus: FakeResponse): Promise<void> {
      api().on(...t.status, { status: 200, body: "<html>", headers: { "content-type": "application/json" } });
      assert.equal((await rejection(t.provider().status(t.op))).providerCode, "malformed-response");
      api().on(...t.status, noStatus);
      assert.equal((await rejection(t.provider().status(t.op))).providerCode, "malformed-response");
      api().on(...t.status, { hang: true });
      assert.equal((await rejection(t.provider().status(t.op, AbortSignal.timeout(150)))).providerCode, "timeout");
    },

    /** The CDN fake serves VIDEO (as video/mp4, with its length) at `path`. */
    serveVideo(path: string): void {
      t.fakes().cdn.on("GET", path, { body: VIDEO, headers: { "content-type": "video/mp4", "content-length": String(VIDEO.length) } });
    },

    /** The opened result streams VIDEO with its content type and length. */
    async expectStreamsVideo(opened: Awaited<ReturnType<VideoProvider["openResult"]>>): Promise<void> {
      assert.ok((await read(opened.body)).equals(VIDEO));
      assert.equal(opened.contentType, "video/mp4");
      assert.equal(opened.contentLength, VIDEO.length);
    },

    /**
     * The CDN refusing `url` (403 with `expiredBody`) is a permanent result-expired; a non-https URL
     * is refused; none of `credentials` reached the CDN.
     */
    async expectExpiredResult(url: string, expiredBody: string, credentials: string[], insecureUrl = "http://cdn.example.com/v.mp4"): Promise<void> {
      const { cdn } = t.fakes();
      cdn.on("GET", new URL(url).pathname, { status: 403, body: expiredBody });
      const error = await t
        .provider()
        .openResult({ url })
        .catch((e) => e);
      assert.ok(error instanceof ProviderFailure);
      assert.equal(error.error.kind, "permanent");
      assert.equal(error.error.providerCode, "result-expired");
      const insecure = await t
        .provider()
        .openResult({ url: insecureUrl })
        .catch((e) => e);
      assert.equal(insecure.error.providerCode, "insecure-result-url");
      assertNoCredentialSent(cdn, credentials);
    },

    /** Each photo is refused as unsupported by the provider, and no call reaches the API. */
    async expectImagesRefused(images: readonly InputImage[]): Promise<void> {
      for (const image of images) {
        const error = await t
          .provider()
          .start({ ...t.request(), image })
          .catch((e) => e);
        assert.ok(error instanceof AppError);
        assert.equal(error.code, "invalid-argument");
        assert.equal(error.reason, "image-unsupported-by-provider");
      }
      assert.equal(api().calls.length, 0);
    },
  };
}
