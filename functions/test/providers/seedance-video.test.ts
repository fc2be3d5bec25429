/**
 * Seedance image-to-video adapter against a wire-level fake of Ark's task API
 * (shared/providers/bytedance-seedance.md): request shape, the task status sequence, streaming the
 * result from a CDN fake without the key, cancel/delete, the real-face rule of Seedance 2.0, and
 * every error class on start and status.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { createSeedanceProvider } from "../../src/providers/seedance/index.js";
import { catalogFor } from "../../src/providers/seedance/api.js";
import { AppError } from "../../src/errors.js";
import { ProviderFailure, type InputImage, type ProviderError, type VideoRequest, type VideoStatus } from "../../src/providers/types.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { makeFaceImage } from "../fixtures/images.js";

const KEY = `ark-test-${process.pid}-${Date.now()}`; // generated, never a real key
const TASKS = "/contents/generations/tasks";
const TASK = `${TASKS}/cgt-1`;
const MODEL = "doubao-seedance-1-5-pro-251215";
const VIDEO = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(1000, 7)]);
const fakes = useProviderFakes("SEEDANCE_BASE_URL");
let face: InputImage; // Seedance needs > 300 px per side: the shared 256 px face is too small
before(async () => {
  face = { bytes: await makeFaceImage({ width: 480, height: 640, format: "jpeg" }), mime: "image/jpeg", width: 480, height: 640 };
});

const provider = () => createSeedanceProvider({ apiKey: KEY });
const op = { id: "cgt-1", model: MODEL };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: MODEL, image: face, jobId: "job-1", ...over });
const task = (status: string, extra: object = {}) => ({ json: { id: "cgt-1", model: MODEL, status, created_at: 1761990000, updated_at: 1761990001, ...extra } });
const resultUrl = () => `${fakes().cdn.url}/out/video.mp4?X-Tos-Signature=signed`;
const arkError = (status: number, code: string, headers: Record<string, string> = {}) => ({ status, headers, json: { error: { code, message: `Jane Doe's photo: ${code}`, type: "BadRequest" } } });

/** The classified error a call rejects with (the adapter's classify, as the job uses it). */
async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const error = await p.then(() => assert.fail("expected a rejection"), (e) => e);
  assert.ok(!(error instanceof AppError), `unexpected AppError ${error}`);
  return provider().classify(error);
}
const read = async (body: ReadableStream<Uint8Array>) => Buffer.from(await new Response(body).arrayBuffer());

describe("seedance video adapter", () => {
  test("start sends the prompt and the photo as a first-frame data URL, with Bearer key, 720p, adaptive ratio, no audio or watermark", async () => {
    fakes().api.on("POST", TASKS, { json: { id: "cgt-1" } });
    const started = await provider().start(request({ prompt: "wave at the camera" }));
    assert.deepEqual(started, { id: "cgt-1", model: MODEL });
    const [call] = fakes().api.callsTo("POST", TASKS);
    assert.equal(call!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(call!.json.model, MODEL);
    assert.equal(call!.json.content.length, 2);
    assert.equal(call!.json.content[0].type, "text");
    assert.match(call!.json.content[0].text, /^wave at the camera Keep the person's face/);
    assert.deepEqual(call!.json.content[1], { type: "image_url", image_url: { url: `data:image/jpeg;base64,${Buffer.from(face.bytes).toString("base64")}` }, role: "first_frame" });
    assert.equal(call!.json.ratio, "adaptive");
    assert.equal(call!.json.resolution, "720p");
    assert.equal(call!.json.duration, 5);
    assert.equal(call!.json.watermark, false);
    assert.equal(call!.json.generate_audio, false);
  });

  test("models: Volcengine ids by default (1.5 pro first), BytePlus ids on its host; the full Ark path; per-model durations", async () => {
    assert.equal(provider().models.default, MODEL);
    assert.ok(provider().models.allowed.includes("doubao-seedance-2-0-260128"));
    const byteplus = catalogFor("https://ark.ap-southeast.bytepluses.com/api/v3");
    assert.equal(byteplus.defaultModel, "seedance-1-5-pro-251215");
    assert.ok(byteplus.models.includes("dreamina-seedance-2-0-260128"));
    assert.ok(byteplus.models.includes("seedance-1-0-lite-i2v-250428"));

    const { api } = fakes();
    api.on("POST", `/api/v3${TASKS}`, { json: { id: "cgt-2" } });
    const withPath = createSeedanceProvider({ apiKey: KEY, baseUrl: `${api.url}/api/v3` });
    await withPath.start(request({ model: "doubao-seedance-1-0-pro-250528", options: { durationSeconds: 2 } }));
    const [call] = api.callsTo("POST", `/api/v3${TASKS}`);
    assert.equal(call!.json.duration, 2);
    assert.equal(call!.json.generate_audio, undefined, "1.0 models have no audio flag");
    const error = await provider().start(request({ options: { durationSeconds: 2 } })).catch((e) => e);
    assert.ok(error instanceof AppError && error.code === "invalid-argument" && error.reason === "option-invalid", "1.5 pro starts at 4 s");
  });

  test("status walks queued → running → succeeded with raw values; the video streams from the CDN without the key", async () => {
    const { api, cdn } = fakes();
    api.on("GET", TASK, task("queued"), task("running"), task("succeeded", { content: { video_url: resultUrl() }, usage: { completion_tokens: 1, total_tokens: 1 } }));
    cdn.on("GET", "/out/video.mp4", { body: VIDEO, headers: { "content-type": "video/mp4", "content-length": String(VIDEO.length) } });
    const p = provider();
    const seen: VideoStatus[] = [];
    for (let i = 0; i < 3; i++) seen.push(await p.status(op));
    assert.deepEqual(seen.slice(0, 2), [
      { state: "queued", raw: "queued" },
      { state: "running", raw: "running" },
    ]);
    const done = seen[2]!;
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    assert.equal(done.raw, "succeeded");
    const opened = await p.openResult(done.result);
    assert.ok((await read(opened.body)).equals(VIDEO));
    assert.equal(opened.contentType, "video/mp4");
    assert.equal(opened.contentLength, VIDEO.length);
    assert.ok(api.callsTo("GET", TASK).every((c) => c.headers.authorization === `Bearer ${KEY}`));
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("an unknown status value stays running with its raw value", async () => {
    fakes().api.on("GET", TASK, task("warming_up"));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "warming_up" });
  });

  for (const [label, response, state, kind, code] of [
    ["failed: real face on Seedance 2.0", task("failed", { error: { code: "InputImageSensitiveContentDetected.PrivacyInformation", message: "Jane Doe" } }), "failed", "policy_rejected", "InputImageSensitiveContentDetected.PrivacyInformation"],
    ["failed: input moderation", task("failed", { error: { code: "InputImageSensitiveContentDetected", message: "Jane Doe" } }), "failed", "policy_rejected", "InputImageSensitiveContentDetected"],
    ["failed: output moderation", task("failed", { error: { code: "OutputVideoSensitiveContentDetected", message: "x" } }), "failed", "policy_rejected", "OutputVideoSensitiveContentDetected"],
    ["failed: internal error", task("failed", { error: { code: "InternalServiceError", message: "x" } }), "failed", "retryable", "InternalServiceError"],
    ["failed without a code", task("failed", { error: null }), "failed", "permanent", "failed"],
    ["succeeded without a video", task("succeeded", { content: {} }), "failed", "permanent", "no-result"],
    ["cancelled", task("cancelled"), "cancelled", "permanent", "cancelled"],
    ["expired", task("expired"), "failed", "permanent", "expired"],
  ] as const) {
    test(`a task ${label} (HTTP 200) ends ${state} as ${kind}`, async () => {
      fakes().api.on("GET", TASK, response);
      const status = await provider().status(op);
      assert.equal(status.state, state);
      assert.ok(status.state === "failed" || status.state === "cancelled");
      assert.equal(status.error.kind, kind);
      assert.equal(status.error.providerCode, code);
      assert.equal(status.raw, response.json.status);
      assert.doesNotMatch(status.error.message, /Jane Doe/, "our message, not the provider's");
    });
  }

  test("the real-face rejection tells the admin what to do", async () => {
    fakes().api.on("POST", TASKS, arkError(400, "InputImageSensitiveContentDetected.PrivacyInformation"));
    const error = await rejection(provider().start(request({ model: "doubao-seedance-2-0-260128", options: { durationSeconds: 5 } })));
    assert.equal(error.kind, "policy_rejected");
    assert.match(error.message, /does not accept photos of real faces/);
    assert.match(error.message, /admin must choose a Seedance 1\.x model .* or another video provider/);
  });

  for (const [label, response, kind, extra] of [
    ["400 input moderation", arkError(400, "InputImageSensitiveContentDetected"), "policy_rejected", { providerCode: "InputImageSensitiveContentDetected" }],
    ["400 prompt moderation", arkError(400, "InputTextSensitiveContentDetected"), "policy_rejected", {}],
    ["403 account overdue", arkError(403, "AccountOverdueError"), "quota", {}],
    ["404 model not activated", arkError(404, "ModelNotOpen"), "permanent", { providerCode: "ModelNotOpen" }],
    ["401 bad key", arkError(401, "AuthenticationError"), "permanent", { httpStatus: 401 }],
    ["400 invalid parameter", arkError(400, "InvalidParameter"), "permanent", {}],
    ["429 with Retry-After", arkError(429, "RateLimitExceeded.EndpointRPMExceeded", { "retry-after": "7" }), "retryable", { retryAfterMs: 7000 }],
    ["500", arkError(500, "InternalServiceError"), "retryable", {}],
    ["503 HTML", { status: 503, body: "<html>busy</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
  ] as const) {
    test(`start answered ${label} is ${kind} and is sent once`, async () => {
      fakes().api.on("POST", TASKS, response);
      const error = await rejection(provider().start(request()));
      assert.equal(error.kind, kind);
      for (const [k, v] of Object.entries(extra)) assert.equal(error[k as keyof ProviderError], v);
      assert.doesNotMatch(error.message, /Jane Doe/, "our message, not the provider's");
      assert.equal(fakes().api.callsTo("POST", TASKS).length, 1);
    });
  }

  test("start: malformed JSON, a missing id, a dropped connection and a hang are retryable; none is resent", async () => {
    for (const response of [{ status: 200, body: "{not json", headers: { "content-type": "application/json" } }, { json: { status: "queued" } }, { drop: true }]) {
      fakes().api.reset();
      fakes().api.on("POST", TASKS, response);
      assert.equal((await rejection(provider().start(request()))).kind, "retryable");
      assert.equal(fakes().api.callsTo("POST", TASKS).length, 1);
    }
    fakes().api.on("POST", TASKS, { hang: true });
    const error = await rejection(provider().start(request(), AbortSignal.timeout(150)));
    assert.equal(error.kind, "retryable");
    assert.equal(error.providerCode, "timeout");
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    fakes().api.on("GET", TASK, arkError(500, "InternalServiceError"), arkError(429, "ServerOverloaded", { "retry-after-ms": "20" }), task("running"));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "running" });
    assert.equal(fakes().api.callsTo("GET", TASK).length, 3);
  });

  test("status: persistent 429 keeps Retry-After, moderation / quota / 404 codes are classified, malformed JSON and a hang are retryable", async () => {
    fakes().api.on("GET", TASK, arkError(429, "RateLimitExceeded.EndpointRPMExceeded", { "retry-after": "0" }));
    const throttled = await rejection(provider().status(op));
    assert.equal(throttled.kind, "retryable");
    assert.equal(throttled.retryAfterMs, 0);
    assert.equal(fakes().api.callsTo("GET", TASK).length, 3, "two retries, then the job backs off");
    fakes().api.on("GET", TASK, arkError(400, "OutputVideoSensitiveContentDetected.PolicyViolation"));
    assert.equal((await rejection(provider().status(op))).kind, "policy_rejected");
    fakes().api.on("GET", TASK, arkError(403, "AccountOverdueError"));
    assert.equal((await rejection(provider().status(op))).kind, "quota");
    fakes().api.on("GET", TASK, arkError(404, "ResourceNotFound"));
    assert.equal((await rejection(provider().status(op))).kind, "permanent");
    fakes().api.on("GET", TASK, { status: 200, body: "<html>", headers: { "content-type": "application/json" } });
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
    fakes().api.on("GET", TASK, { json: { id: "cgt-1" } }); // no status at all
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
    fakes().api.on("GET", TASK, { hang: true });
    assert.equal((await rejection(provider().status(op, AbortSignal.timeout(150)))).providerCode, "timeout");
  });

  test("an expired result URL is a permanent result-expired; a non-https URL is refused; no key reaches the CDN", async () => {
    fakes().cdn.on("GET", "/out/video.mp4", { status: 403, body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" });
    const error = await provider().openResult({ url: resultUrl() }).catch((e) => e);
    assert.ok(error instanceof ProviderFailure);
    assert.equal(error.error.kind, "permanent");
    assert.equal(error.error.providerCode, "result-expired");
    const insecure = await provider().openResult({ url: "http://tos.example.com/v.mp4" }).catch((e) => e);
    assert.equal(insecure.error.providerCode, "insecure-result-url");
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("cancel and deleteTask DELETE the task with the key; a task already gone is fine; other failures surface", async () => {
    fakes().api.on("DELETE", TASK, { status: 200, json: {} }, arkError(404, "ResourceNotFound"), arkError(500, "InternalServiceError"));
    const p = provider();
    await p.cancel!(op);
    await p.deleteTask!(op);
    const calls = fakes().api.callsTo("DELETE", TASK);
    assert.equal(calls.length, 2);
    assert.ok(calls.every((c) => c.headers.authorization === `Bearer ${KEY}`));
    assert.equal((await rejection(p.deleteTask!(op))).kind, "retryable");
  });

  test("photos Ark cannot take are refused before any call", async () => {
    for (const image of [
      { ...face, mime: "image/heic" as const },
      { ...face, bytes: new Uint8Array(31 * 1024 * 1024) },
      { ...face, width: 256, height: 256 },
      { ...face, width: 400, height: 1200 }, // 1:3, narrower than 2:5
    ]) {
      const error = await provider().start(request({ image })).catch((e) => e);
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "invalid-argument");
      assert.equal(error.reason, "image-unsupported-by-provider");
    }
    assert.equal(fakes().api.calls.length, 0);
  });
});
