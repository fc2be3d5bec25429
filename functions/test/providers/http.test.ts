/**
 * providerFetch's error-code hook (HttpRequest.errorCode), shared by the Seedream, MiniMax, Wan and
 * Kling adapters: only the code survives a non-2xx body, and retries still go by HTTP status.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProviderHttpError, classifyWithCode, providerFetch } from "../../src/providers/http.js";

const answering = (...responses: (() => Response)[]): typeof fetch => {
  let i = 0;
  return async () => responses[Math.min(i++, responses.length - 1)]!();
};
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );

describe("providerFetch errorCode", () => {
  test("keeps only the code (numbers stringified) and the request id, never the body text", async () => {
    const seen: unknown[] = [];
    const fetch = answering(() => Response.json({ code: 1301, message: "text quoting the prompt", request_id: "req-9" }, { status: 400 }));
    const error = await rejection(providerFetch({ url: "https://api.test/x", fetch, errorCode: (body) => (seen.push(body), (body as { code: number }).code) }));
    assert.ok(error instanceof ProviderHttpError);
    assert.equal(error.code, "1301");
    assert.equal(error.requestId, "req-9");
    assert.equal(seen.length, 1);
    assert.doesNotMatch(JSON.stringify({ ...error, message: error.message }), /quoting/);
  });

  test("a body that is not JSON, or too long to read whole, gives the hook undefined", async () => {
    for (const body of ["<html>busy</html>", JSON.stringify({ code: "X", pad: "a".repeat(100_000) })]) {
      let seen: unknown = "not called";
      await rejection(
        providerFetch({ url: "https://api.test/x", fetch: answering(() => new Response(body, { status: 400 })), errorCode: (b) => ((seen = b), "never") }),
      );
      assert.equal(seen, undefined);
    }
  });

  test("without the hook the code is undefined; with it, idempotent calls still retry by status", async () => {
    const plain = await rejection(providerFetch({ url: "https://api.test/x", fetch: answering(() => Response.json({ code: 1 }, { status: 400 })) }));
    assert.equal((plain as ProviderHttpError).code, undefined);
    const fetch = answering(
      () => Response.json({ code: 5000 }, { status: 503, headers: { "retry-after-ms": "1" } }),
      () => new Response("ok"),
    );
    const res = await providerFetch({ url: "https://api.test/x", fetch, idempotent: true, errorCode: (b) => (b as { code: number }).code });
    assert.equal(await res.text(), "ok");
  });

  test("classifyWithCode lets a known code decide, keeping status and Retry-After", () => {
    const error = new ProviderHttpError(429, 4000, "r", "1102");
    const known = classifyWithCode(error, "P", (code) => (code === "1102" ? { kind: "quota", message: "no credit", providerCode: code } : undefined));
    assert.deepEqual(known, { kind: "quota", message: "no credit", providerCode: "1102", httpStatus: 429, retryAfterMs: 4000, requestId: "r" });
    const unknown = classifyWithCode(error, "P", () => undefined);
    assert.equal(unknown.kind, "retryable");
    assert.equal(unknown.providerCode, "1102");
  });
});
