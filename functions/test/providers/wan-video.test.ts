/**
 * Alibaba Wan image-to-video adapter against a wire-level fake of DashScope
 * (shared/providers/alibaba-wan-video.md): request shape, the task status sequence, streaming the
 * result from a CDN fake without the key, cancel, and every error class on start and status.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { createWanVideoProvider } from "../../src/providers/wan/video.js";
import { AppError } from "../../src/errors.js";
import type { InputImage, VideoRequest } from "../../src/providers/types.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { videoAdapterKit } from "../support/videoAdapterKit.js";
import { makeFaceImage } from "../fixtures/images.js";

const KEY = `sk-wan-video-test-${process.pid}-${Date.now()}`; // generated, never a real key
const START = "/api/v1/services/aigc/video-generation/video-synthesis";
const TASK = "/api/v1/tasks/task-1";
const MODEL = "wan2.6-i2v";
const fakes = useProviderFakes("WAN_BASE_URL");
let face: InputImage; // Wan needs 360–2000 px per side: the shared 256 px face is too small
before(async () => {
  face = { bytes: await makeFaceImage({ width: 480, height: 640, format: "jpeg" }), mime: "image/jpeg", width: 480, height: 640 };
});

const provider = () => createWanVideoProvider({ apiKey: KEY });
const op = { id: "task-1", model: MODEL };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: MODEL, image: face, jobId: "job-1", ...over });
const task = (task_status: string, extra: object = {}) => ({
  json: { request_id: "r-1", output: { task_id: "task-1", task_status, submit_time: "2026-11-01 12:00:00.000", ...extra } },
});
const resultUrl = () => `${fakes().cdn.url}/out/video.mp4?Expires=1&Signature=signed`;
const dashError = (status: number, code: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  json: { request_id: "r-2", code, message: `Jane Doe's photo: ${code}` },
});
const kit = videoAdapterKit({ fakes, provider, request, op, start: ["POST", START], status: ["GET", TASK] });
const { rejection } = kit;

describe("wan video adapter", () => {
  test("start sends the photo as img_url data URI with Bearer key and X-DashScope-Async, 720P, 5 s, no rewrite, watermark or audio", async () => {
    fakes().api.on("POST", START, task("PENDING"));
    const started = await provider().start(request({ prompt: "wave at the camera" }));
    assert.deepEqual(started, { id: "task-1", model: MODEL });
    const [call] = fakes().api.callsTo("POST", START);
    assert.equal(call!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(call!.headers["x-dashscope-async"], "enable");
    assert.equal(call!.json.model, MODEL);
    assert.equal(call!.json.input.img_url, `data:image/jpeg;base64,${Buffer.from(face.bytes).toString("base64")}`);
    assert.match(call!.json.input.prompt, /^wave at the camera Keep the person's face/);
    assert.deepEqual(call!.json.parameters, { resolution: "720P", duration: 5, prompt_extend: false, watermark: false, audio: false });
    assert.deepEqual(provider().models, { default: "wan2.6-i2v", allowed: ["wan2.6-i2v", "wan2.6-i2v-flash", "wan2.5-i2v-preview"] });
  });

  test("audio: false goes only to the 2.6 models that document it; wan2.5-i2v-preview gets no audio field", async () => {
    fakes().api.on("POST", START, task("PENDING"), task("PENDING"));
    await provider().start(request({ model: "wan2.6-i2v-flash" }));
    await provider().start(request({ model: "wan2.5-i2v-preview" }));
    const [flash, preview] = fakes().api.callsTo("POST", START);
    assert.equal(flash!.json.parameters.audio, false);
    assert.deepEqual(preview!.json.parameters, { resolution: "720P", duration: 5, prompt_extend: false, watermark: false });
  });

  test("per-model durations, a default prompt, and the prompt limit", async () => {
    fakes().api.on("POST", START, task("PENDING"));
    await provider().start(request({ model: "wan2.6-i2v-flash", options: { durationSeconds: 3 } }));
    const [call] = fakes().api.callsTo("POST", START);
    assert.equal(call!.json.parameters.duration, 3);
    assert.match(call!.json.input.prompt, /comes gently to life/);
    const badDuration = await provider()
      .start(request({ options: { durationSeconds: 3 } }))
      .catch((e) => e);
    assert.ok(badDuration instanceof AppError && badDuration.reason === "option-invalid", "wan2.6-i2v makes 5, 10 or 15 s");
    const longPrompt = await provider()
      .start(request({ prompt: "x".repeat(1500) }))
      .catch((e) => e);
    assert.ok(longPrompt instanceof AppError && longPrompt.reason === "prompt-too-long");
    assert.equal(fakes().api.callsTo("POST", START).length, 1);
  });

  test("status walks PENDING → SUSPENDED → RUNNING → SUCCEEDED with raw values; the video streams from the CDN without the key", async () => {
    const { api, cdn } = fakes();
    api.on(
      "GET",
      TASK,
      task("PENDING"),
      task("SUSPENDED"),
      task("RUNNING"),
      task("SUCCEEDED", { video_url: resultUrl(), orig_prompt: "p", actual_prompt: "p", end_time: "2026-11-01 12:02:10.000" }),
    );
    kit.serveVideo("/out/video.mp4");
    const p = provider();
    const seen = await kit.pollStatuses(p, 4);
    assert.deepEqual(seen.slice(0, 3), [
      { state: "queued", raw: "PENDING" },
      { state: "queued", raw: "SUSPENDED" },
      { state: "running", raw: "RUNNING" },
    ]);
    const done = seen[3]!;
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    assert.equal(done.raw, "SUCCEEDED");
    await kit.expectStreamsVideo(await p.openResult(done.result));
    assert.ok(api.callsTo("GET", TASK).every((c) => c.headers.authorization === `Bearer ${KEY}`));
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("an unknown status value stays running with its raw value", async () => {
    fakes().api.on("GET", TASK, task("WARMING_UP"));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "WARMING_UP" });
  });

  for (const [label, response, state, kind, code] of [
    ["FAILED DataInspectionFailed", task("FAILED", { code: "DataInspectionFailed", message: "Jane Doe" }), "failed", "policy_rejected", "DataInspectionFailed"],
    [
      "FAILED IPInfringementSuspect",
      task("FAILED", { code: "IPInfringementSuspect", message: "Jane Doe" }),
      "failed",
      "policy_rejected",
      "IPInfringementSuspect",
    ],
    ["FAILED InternalError", task("FAILED", { code: "InternalError.Algo", message: "x" }), "failed", "retryable", "InternalError.Algo"],
    ["FAILED without a code", task("FAILED"), "failed", "permanent", "FAILED"],
    ["SUCCEEDED without a video", task("SUCCEEDED"), "failed", "permanent", "no-result"],
    ["CANCELED", task("CANCELED"), "cancelled", "permanent", "CANCELED"],
    ["UNKNOWN (expired)", task("UNKNOWN"), "failed", "permanent", "UNKNOWN"],
  ] as const) {
    test(`a task ${label} (HTTP 200) ends ${state} as ${kind}`, async () => {
      fakes().api.on("GET", TASK, response);
      const status = await provider().status(op);
      assert.equal(status.state, state);
      assert.ok(status.state === "failed" || status.state === "cancelled");
      assert.equal(status.error.kind, kind);
      assert.equal(status.error.providerCode, code);
      assert.equal(status.raw, response.json.output.task_status);
      assert.doesNotMatch(status.error.message, /Jane Doe/, "our message, not the provider's");
    });
  }

  kit.testStartErrors(
    [
      ["400 DataInspectionFailed", dashError(400, "DataInspectionFailed"), "policy_rejected", { providerCode: "DataInspectionFailed", requestId: "r-2" }],
      ["400 IPInfringementSuspect", dashError(400, "IPInfringementSuspect"), "policy_rejected", {}],
      ["429 Throttling.AllocationQuota", dashError(429, "Throttling.AllocationQuota"), "quota", {}],
      ["400 Arrearage", dashError(400, "Arrearage"), "quota", {}],
      ["401 InvalidApiKey", dashError(401, "InvalidApiKey"), "permanent", { httpStatus: 401 }],
      ["400 InvalidParameter", dashError(400, "InvalidParameter"), "permanent", {}],
      ["429 Throttling.RateQuota with Retry-After", dashError(429, "Throttling.RateQuota", { "retry-after": "7" }), "retryable", { retryAfterMs: 7000 }],
      ["500 InternalError", dashError(500, "InternalError"), "retryable", {}],
      ["503 HTML", { status: 503, body: "<html>busy</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
    ],
    /Jane Doe/,
  );

  test("start: malformed JSON, a missing task id, a dropped connection and a hang are retryable; none is resent", async () => {
    await kit.expectStartFailuresRetryableOnce({ json: { request_id: "r", output: { task_status: "PENDING" } } });
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    await kit.expectStatusRetried([dashError(500, "InternalError"), dashError(429, "Throttling", { "retry-after-ms": "20" })], task("RUNNING"), {
      state: "running",
      raw: "RUNNING",
    });
  });

  test("status: persistent 429 keeps Retry-After, quota and bad-key codes are classified, malformed JSON and a hang are retryable", async () => {
    await kit.expectStatusThrottled(dashError(429, "Throttling.RateQuota", { "retry-after": "0" }));
    fakes().api.on("GET", TASK, dashError(429, "Throttling.AllocationQuota"));
    assert.equal((await rejection(provider().status(op))).kind, "quota");
    fakes().api.on("GET", TASK, dashError(401, "InvalidApiKey"));
    assert.equal((await rejection(provider().status(op))).kind, "permanent");
    await kit.expectStatusUnreadable({ json: { request_id: "r", output: { task_id: "task-1" } } }); // the last: no status at all
  });

  test("an expired result URL is a permanent result-expired; a non-https URL is refused; no key reaches the CDN", async () => {
    await kit.expectExpiredResult(
      resultUrl(),
      "<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>",
      [KEY],
      "http://oss.example.com/v.mp4",
    );
  });

  test("cancel POSTs /tasks/{id}/cancel with the key; a task past PENDING surfaces DashScope's refusal; there is no delete", async () => {
    const CANCEL = `${TASK}/cancel`;
    fakes().api.on("POST", CANCEL, { json: { request_id: "r-3" } }, dashError(400, "UnsupportedOperation"));
    const p = provider();
    await p.cancel!(op);
    const [call] = fakes().api.callsTo("POST", CANCEL);
    assert.equal(call!.headers.authorization, `Bearer ${KEY}`);
    assert.equal((await rejection(p.cancel!(op))).kind, "permanent");
    assert.equal(p.deleteTask, undefined);
  });

  test("photos Wan cannot take are refused before any call", async () => {
    await kit.expectImagesRefused([
      { ...face, mime: "image/heic" },
      { ...face, bytes: new Uint8Array(10 * 1024 * 1024 + 1) },
      { ...face, width: 300, height: 640 },
      { ...face, width: 2400, height: 1600 },
    ]);
  });
});
