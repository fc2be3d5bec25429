/**
 * The guard in front of the SDK's callable handler (triggers/https/rawBodyGuard.ts), driven over
 * HTTP through the real exported function: malformed bodies are answered `invalid-argument` with
 * `details.reason: "request-malformed"` in the callable protocol's own form, well-formed ones
 * (including the Int64 form Android and iOS send) reach the SDK and our handler, and the exported
 * function keeps what deployment and the emulator read on it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { captureLogs, capturedLogs } from "../support/logCapture.js";
import { nestedJson, postCallable, serveCallable, type CallableServer } from "../support/callableHttp.js";
import { MAX_DEPTH } from "../../src/triggers/https/rawBodyGuard.js";

const INT64 = "type.googleapis.com/google.protobuf.Int64Value";
const ORIGIN = "https://app.example";
let server: CallableServer;

before(async () => {
  captureLogs();
  const { getJobResult } = await import("../../src/triggers/https/jobs.js");
  server = await serveCallable(getJobResult);
});
after(() => server.close());

/** Reached our handler: no sign-in, so `unauthenticated` from userCallable. */
async function assertReachesHandler(body: unknown, label: string) {
  const answer = await postCallable(server.url, body);
  assert.equal(answer.status, 401, `${label}: ${JSON.stringify(answer.json)}`);
  assert.equal(answer.json?.error?.status, "UNAUTHENTICATED", label);
  assert.equal(answer.json?.error?.message, "Sign in to use Photo Fixer.", label);
}

async function assertRefused(body: unknown, label: string, headers: Record<string, string> = {}) {
  const answer = await postCallable(server.url, body, { Origin: ORIGIN, ...headers });
  assert.equal(answer.status, 400, `${label}: ${JSON.stringify(answer.json)}`);
  assert.equal(answer.json?.error?.status, "INVALID_ARGUMENT", label);
  assert.deepEqual(answer.json?.error?.details, { reason: "request-malformed" }, label);
  assert.equal(answer.headers.get("access-control-allow-origin"), ORIGIN, `${label}: a browser can read the refusal`);
  return answer.json!.error!.message;
}

describe("callable request guard", () => {
  test("well-formed requests reach the SDK and our handler, 64-bit integers included", async () => {
    await assertReachesHandler({ data: { jobId: "a".repeat(40) } }, "plain");
    await assertReachesHandler({ data: null }, "null data");
    await assertReachesHandler({ data: { n: { "@type": INT64, value: "9007199254740993" } } }, "Int64Value");
    await assertReachesHandler({ data: [{ "@type": "type.googleapis.com/google.protobuf.UInt64Value", value: "5" }] }, "UInt64Value");
    await assertReachesHandler(`{"data":${nestedJson(MAX_DEPTH)}}`, `${MAX_DEPTH} levels`);
    await assertReachesHandler(`{"data":${nestedJson(MAX_DEPTH, "array")}}`, `${MAX_DEPTH} levels of arrays`);
    const preflight = await fetch(server.url, { method: "OPTIONS", headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST" } });
    assert.equal(preflight.status, 204, "the SDK's CORS preflight still answers");
    assert.equal(preflight.headers.get("access-control-allow-origin"), ORIGIN);
  });

  test("an @type the SDK cannot decode is refused, wherever it is", async () => {
    const messages = new Set<string>();
    for (const [label, data] of [
      ["unknown type", { "@type": "type.googleapis.com/google.protobuf.Any", value: "x" }],
      ["nested", { a: [{ b: { "@type": "x" } }] }],
      ["not a number", { "@type": INT64, value: "twelve" }],
      ["a number, not a string", { "@type": INT64, value: 12 }],
      ["extra key", { "@type": INT64, value: "1", note: "x" }],
      ["empty tag", { "@type": "" }],
    ] as const) {
      messages.add(await assertRefused({ data }, label));
    }
    assert.deepEqual([...messages], ["The request holds an `@type` value that is not a 64-bit integer."]);
  });

  test("nesting deeper than the bound is refused, 10,000 levels included (not a 500)", async () => {
    for (const levels of [MAX_DEPTH + 1, 10_000]) {
      for (const kind of ["object", "array"] as const) {
        const message = await assertRefused(`{"data":${nestedJson(levels, kind)}}`, `${levels} levels of ${kind}s`);
        assert.equal(message, `The request nests deeper than ${MAX_DEPTH} levels.`);
      }
    }
  });

  test("a body the SDK would log (wrong content type, no `data`, extra fields) is refused", async () => {
    await assertRefused("data=1", "text/plain", { "Content-Type": "text/plain" });
    await assertRefused("{}", "a type that only says JSON", { "Content-Type": "application/jsonx" });
    await assertRefused({ prompt: "p" }, "no data");
    await assertRefused({ data: {}, prompt: "p" }, "extra field");
    await assertRefused([{ data: 1 }], "an array");
    await assertRefused({}, "empty object");
    // Parameters after the type are fine, as the SDK allows them.
    const answer = await postCallable(server.url, { data: {} }, { "Content-Type": "application/json; charset=utf-8" });
    assert.equal(answer.status, 401);
  });

  test("the refusal is logged by reason only", async () => {
    await assertRefused({ data: { "@type": "x", canary: "refusal-canary" } }, "canary");
    const line = capturedLogs()
      .split("\n")
      .find((l) => l.startsWith("{") && l.includes('"request-malformed:type-tag"'));
    assert.ok(line, "a request rejected line names the reason");
    assert.equal(JSON.parse(line).fn, "getJobResult");
    assert.ok(!capturedLogs().includes("refusal-canary"));
  });

  test("the exported function keeps what deployment, the emulator and tests read", async () => {
    const { createJob, getJobResult, ackJobResult, cancelJob } = await import("../../src/triggers/https/jobs.js");
    const { exportMyData, deleteMyData, setPrivacyChoices } = await import("../../src/triggers/https/privacy.js");
    const { onCall } = await import("firebase-functions/v2/https");
    const bare = onCall({}, async () => null);
    for (const fn of [createJob, getJobResult, ackJobResult, cancelJob, exportMyData, deleteMyData, setPrivacyChoices]) {
      assert.deepEqual(
        Reflect.ownKeys(fn)
          .filter((k) => k !== "length" && k !== "name")
          .sort(),
        Reflect.ownKeys(bare)
          .filter((k) => k !== "length" && k !== "name")
          .sort(),
      );
      assert.ok(fn.__endpoint.callableTrigger, "a callable endpoint");
      assert.equal((fn as unknown as { __trigger: { labels: Record<string, string> } }).__trigger.labels["deployment-callable"], "true");
      assert.equal(typeof fn.run, "function");
    }
  });
});
