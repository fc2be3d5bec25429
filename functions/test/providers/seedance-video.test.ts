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
import type { InputImage, VideoRequest } from "../../src/providers/types.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { videoAdapterKit } from "../support/videoAdapterKit.js";
import { makeFaceImage } from "../fixtures/images.js";

const KEY = `ark-test-${process.pid}-${Date.now()}`; // generated, never a real key
const TASKS = "/contents/generations/tasks";
const TASK = `${TASKS}/cgt-1`;
const MODEL = "doubao-seedance-1-5-pro-251215";
const fakes = useProviderFakes("SEEDANCE_BASE_URL");
let face: InputImage; // Seedance needs > 300 px per side: the shared 256 px face is too small
before(async () => {
  face = { bytes: await makeFaceImage({ width: 480, height: 640, format: "jpeg" }), mime: "image/jpeg", width: 480, height: 640 };
});

const provider = () => createSeedanceProvider({ apiKey: KEY });
const op = { id: "cgt-1", model: MODEL };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: MODEL, image: face, jobId: "job-1", ...over });
const task = (status: string, extra: object = {}) => ({
  json: { id: "cgt-1", model: MODEL, status, created_at: 1761990000, updated_at: 1761990001, ...extra },
});
const resultUrl = () => `${fakes().cdn.url}/out/video.mp4?X-Tos-Signature=signed`;
const arkError = (status: number, code: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  json: { error: { code, message: `Jane Doe's photo: ${code}`, type: "BadRequest" } },
});
const kit = videoAdapterKit({ fakes, provider, request, op, start: ["POST", TASKS], status: ["GET", TASK] });
const { rejection } = kit;

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
    assert.deepEqual(call!.json.content[1], {
      type: "image_url",
      image_url: { url: `data:image/jpeg;base64,${Buffer.from(face.bytes).toString("base64")}` },
      role: "first_frame",
    });
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
    const error = await provider()
      .start(request({ options: { durationSeconds: 2 } }))
      .catch((e) => e);
    assert.ok(error instanceof AppError && error.code === "invalid-argument" && error.reason === "option-invalid", "1.5 pro starts at 4 s");
  });

  test("status walks queued → running → succeeded with raw values; the video streams from the CDN without the key", async () => {
    const { api, cdn } = fakes();
    api.on(
      "GET",
      TASK,
      task("queued"),
      task("running"),
      task("succeeded", { content: { video_url: resultUrl() }, usage: { completion_tokens: 1, total_tokens: 1 } }),
    );
    kit.serveVideo("/out/video.mp4");
    const p = provider();
    const seen = await kit.pollStatuses(p, 3);
    assert.deepEqual(seen.slice(0, 2), [
      { state: "queued", raw: "queued" },
      { state: "running", raw: "running" },
    ]);
    const done = seen[2]!;
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    assert.equal(done.raw, "succeeded");
    await kit.expectStreamsVideo(await p.openResult(done.result));
    assert.ok(api.callsTo("GET", TASK).every((c) => c.headers.authorization === `Bearer ${KEY}`));
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("an unknown status value stays running with its raw value", async () => {
    fakes().api.on("GET", TASK, task("warming_up"));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "warming_up" });
  });

  for (const [label, response, state, kind, code] of [
    [
      "failed: real face on Seedance 2.0",
      task("failed", { error: { code: "InputImageSensitiveContentDetected.PrivacyInformation", message: "Jane Doe" } }),
      "failed",
      "policy_rejected",
      "InputImageSensitiveContentDetected.PrivacyInformation",
    ],
    [
      "failed: input moderation",
      task("failed", { error: { code: "InputImageSensitiveContentDetected", message: "Jane Doe" } }),
      "failed",
      "policy_rejected",
      "InputImageSensitiveContentDetected",
    ],
    [
      "failed: output moderation",
      task("failed", { error: { code: "OutputVideoSensitiveContentDetected", message: "x" } }),
      "failed",
      "policy_rejected",
      "OutputVideoSensitiveContentDetected",
    ],
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

  kit.testStartErrors(
    [
      ["400 input moderation", arkError(400, "InputImageSensitiveContentDetected"), "policy_rejected", { providerCode: "InputImageSensitiveContentDetected" }],
      ["400 prompt moderation", arkError(400, "InputTextSensitiveContentDetected"), "policy_rejected", {}],
      ["403 account overdue", arkError(403, "AccountOverdueError"), "quota", {}],
      ["404 model not activated", arkError(404, "ModelNotOpen"), "permanent", { providerCode: "ModelNotOpen" }],
      ["401 bad key", arkError(401, "AuthenticationError"), "permanent", { httpStatus: 401 }],
      ["400 invalid parameter", arkError(400, "InvalidParameter"), "permanent", {}],
      ["429 with Retry-After", arkError(429, "RateLimitExceeded.EndpointRPMExceeded", { "retry-after": "7" }), "retryable", { retryAfterMs: 7000 }],
      ["500", arkError(500, "InternalServiceError"), "retryable", {}],
      ["503 HTML", { status: 503, body: "<html>busy</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
    ],
    /Jane Doe/,
  );

  test("start: malformed JSON, a missing id, a dropped connection and a hang are retryable; none is resent", async () => {
    await kit.expectStartFailuresRetryableOnce({ json: { status: "queued" } });
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    await kit.expectStatusRetried([arkError(500, "InternalServiceError"), arkError(429, "ServerOverloaded", { "retry-after-ms": "20" })], task("running"), {
      state: "running",
      raw: "running",
    });
  });

  test("status: persistent 429 keeps Retry-After, moderation / quota / 404 codes are classified, malformed JSON and a hang are retryable", async () => {
    await kit.expectStatusThrottled(arkError(429, "RateLimitExceeded.EndpointRPMExceeded", { "retry-after": "0" }));
    fakes().api.on("GET", TASK, arkError(400, "OutputVideoSensitiveContentDetected.PolicyViolation"));
    assert.equal((await rejection(provider().status(op))).kind, "policy_rejected");
    fakes().api.on("GET", TASK, arkError(403, "AccountOverdueError"));
    assert.equal((await rejection(provider().status(op))).kind, "quota");
    fakes().api.on("GET", TASK, arkError(404, "ResourceNotFound"));
    assert.equal((await rejection(provider().status(op))).kind, "permanent");
    await kit.expectStatusUnreadable({ json: { id: "cgt-1" } }); // the last: no status at all
  });

  test("an expired result URL is a permanent result-expired; a non-https URL is refused; no key reaches the CDN", async () => {
    await kit.expectExpiredResult(
      resultUrl(),
      "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
      [KEY],
      "http://tos.example.com/v.mp4",
    );
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
    await kit.expectImagesRefused([
      { ...face, mime: "image/heic" },
      { ...face, bytes: new Uint8Array(31 * 1024 * 1024) },
      { ...face, width: 256, height: 256 },
      { ...face, width: 400, height: 1200 }, // 1:3, narrower than 2:5
    ]);
  });
});
