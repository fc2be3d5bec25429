/**
 * Kling image-to-video adapter against a wire-level fake of its API (shared/providers/kling-video.md):
 * the JWT on every call, request shape (raw base64, external_task_id = job id), the task status
 * sequence, streaming the result from a CDN fake without credentials, and every error class on
 * start and status (HTTP codes and HTTP-200 envelope codes).
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { before, describe, mock, test } from "node:test";
import { createKlingVideoProvider } from "../../src/providers/kling/video.js";
import { AppError } from "../../src/errors.js";
import type { InputImage, VideoRequest } from "../../src/providers/types.js";
import { assertNoCredentialSent, type RecordedCall } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { videoAdapterKit } from "../support/videoAdapterKit.js";
import { makeFaceImage } from "../fixtures/images.js";

const ACCESS_KEY = `ak-klingvideo-test-${process.pid}-${Date.now()}`; // generated, never real keys
const SECRET_KEY = `sk-klingvideo-test-${Math.random().toString(36).slice(2)}`;
const START = "/v1/videos/image2video";
const TASK = "/v1/videos/image2video/task-1";
const fakes = useProviderFakes("KLING_BASE_URL");
let face: InputImage; // 400×300: the shared 256 px face is under Kling's 300 px minimum
before(async () => {
  face = { bytes: await makeFaceImage({ width: 400, height: 300, format: "jpeg" }), mime: "image/jpeg", width: 400, height: 300 };
});

const provider = () => createKlingVideoProvider({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
const op = { id: "task-1", model: "kling-v3" };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: "kling-v3", image: face, jobId: "job-1", ...over });
const envelope = (data: object | null, code = 0) => ({
  code,
  message: code ? "error text quoting the prompt: Jane Doe" : "SUCCEED",
  request_id: "req-1",
  data,
});
const task = (task_status: string, extra: object = {}) => ({
  json: envelope({ task_id: "task-1", task_status, task_status_msg: "", created_at: 1, updated_at: 2, ...extra }),
});
const resultUrl = () => `${fakes().cdn.url}/output/output.mp4?x-kcdn=signed`;
const succeeded = () => task("succeed", { task_result: { videos: [{ id: "v1", url: resultUrl(), duration: "5.1" }] } });
const submitted = () => task("submitted", { task_info: { external_task_id: "job-1" } });
const kit = videoAdapterKit({ fakes, provider, request, op, start: ["POST", START], status: ["GET", TASK] });
const { rejection } = kit;

/** Verifies a Bearer JWT with the secret key and returns its claims. */
function claimsOf(call: RecordedCall): { iss: string; exp: number; nbf: number } {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(String(call.headers.authorization));
  assert.ok(match, "Authorization: Bearer <jwt>");
  const [, header, payload, signature] = match;
  assert.equal(signature, createHmac("sha256", SECRET_KEY).update(`${header}.${payload}`).digest("base64url"), "HS256 with the secret key");
  return JSON.parse(Buffer.from(payload!, "base64url").toString());
}

describe("kling video adapter", () => {
  test("start signs a JWT and sends raw base64, kling-v3 std 5 s silent, the prompt, and the job id as external_task_id", async () => {
    fakes().api.on("POST", START, submitted());
    const started = await provider().start(request({ prompt: "wave at the camera" }));
    assert.deepEqual(started, { id: "task-1", model: "kling-v3" });
    const [call] = fakes().api.callsTo("POST", START);
    const claims = claimsOf(call!);
    const now = Math.floor(Date.now() / 1000);
    assert.equal(claims.iss, ACCESS_KEY);
    assert.ok(claims.exp > now + 1700 && claims.exp <= now + 1800);
    assert.match(String(call!.headers["content-type"]), /application\/json/);
    const body = call!.json;
    assert.equal(body.image, Buffer.from(face.bytes).toString("base64"), "raw base64, no data: prefix");
    assert.equal(body.model_name, "kling-v3");
    assert.equal(body.model, undefined, "model_name, not the legacy field (which means v1)");
    assert.equal(body.mode, "std");
    assert.equal(body.duration, "5", "a string, as Kling's schema has it");
    assert.equal(body.sound, "off");
    assert.equal(body.external_task_id, "job-1");
    assert.match(body.prompt, /^wave at the camera Keep the person's face/);
    assert.equal(body.cfg_scale, undefined, "v1.x only");
    assert.deepEqual(provider().models, { default: "kling-v3", allowed: ["kling-v3", "kling-v2-6", "kling-v2-5-turbo"] });
    assert.equal(provider().cancel, undefined, "Kling documents no cancel");
    assert.equal(provider().deleteTask, undefined, "nor a delete");
  });

  test("per-model modes, durations and sound; invalid options are refused before any call", async () => {
    fakes().api.on("POST", START, submitted());
    await provider().start(request({ model: "kling-v2-5-turbo", options: { mode: "pro", durationSeconds: 10 } }));
    await provider().start(request({ model: "kling-v2-6" }));
    const [turbo, v26] = fakes()
      .api.callsTo("POST", START)
      .map((c) => c.json);
    assert.deepEqual([turbo.mode, turbo.duration, turbo.sound], ["pro", "10", undefined], "v2.5 takes no sound field");
    assert.deepEqual([v26.mode, v26.duration, v26.sound], ["pro", "5", "off"], "v2.6 is pro only");
    assert.match(turbo.prompt, /comes gently to life/);
    fakes().api.reset();
    for (const over of [
      { model: "kling-v2-6", options: { mode: "std" } },
      { model: "kling-v2-5-turbo", options: { durationSeconds: 7 } },
      { model: "kling-v3", options: { durationSeconds: 20 } },
    ]) {
      const error = await provider()
        .start(request(over))
        .catch((e) => e);
      assert.ok(error instanceof AppError && error.code === "invalid-argument" && error.reason === "option-invalid", String(error));
    }
    const long = await provider()
      .start(request({ prompt: "x".repeat(2490) }))
      .catch((e) => e);
    assert.equal(long.reason, "prompt-too-long");
    assert.equal(fakes().api.calls.length, 0);
  });

  test("status walks submitted → processing → (unknown) → succeed with raw values; the video streams without any credential", async () => {
    const { api, cdn } = fakes();
    api.on("GET", TASK, submitted(), task("processing"), task("upscaling"), succeeded());
    kit.serveVideo("/output/output.mp4");
    const p = provider();
    const seen = await kit.pollStatuses(p, 4);
    assert.deepEqual(seen.slice(0, 3), [
      { state: "queued", raw: "submitted" },
      { state: "running", raw: "processing" },
      { state: "running", raw: "upscaling" },
    ]);
    const done = seen[3]!;
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    assert.equal(done.raw, "succeed");
    assert.equal(done.result.url, resultUrl());
    await kit.expectStreamsVideo(await p.openResult(done.result));
    const polls = api.callsTo("GET", TASK);
    assert.equal(polls.length, 4);
    for (const poll of polls) assert.equal(claimsOf(poll).iss, ACCESS_KEY);
    const tokens = polls.map((c) => String(c.headers.authorization).slice(7));
    assertNoCredentialSent(cdn, [ACCESS_KEY, SECRET_KEY, "Bearer", ...tokens]);
  });

  for (const [label, response, kind, raw] of [
    ["failed by content risk control", task("failed", { task_status_msg: "Failure to pass the risk control system: Jane Doe" }), "policy_rejected", "failed"],
    ["failed for another reason", task("failed", { task_status_msg: "Jane Doe: no motion could be generated" }), "permanent", "failed"],
    ["succeed without videos", task("succeed", { task_result: { videos: [] } }), "permanent", "succeed"],
  ] as const) {
    test(`a task ${label} (HTTP 200) ends failed as ${kind}, with our message`, async () => {
      fakes().api.on("GET", TASK, response);
      const status = await provider().status(op);
      assert.ok(status.state === "failed");
      assert.equal(status.error.kind, kind);
      assert.equal(status.raw, raw);
      assert.doesNotMatch(status.error.message, /Jane Doe|risk control/, "our message, not the provider's");
    });
  }

  kit.testStartErrors(
    [
      ["HTTP 200 code 1301 (content policy)", { json: envelope(null, 1301) }, "policy_rejected", { providerCode: "1301" }],
      ["400 code 1301", { status: 400, json: envelope(null, 1301) }, "policy_rejected", { providerCode: "1301" }],
      ["429 code 1102 (resource pack exhausted)", { status: 429, json: envelope(null, 1102) }, "quota", { providerCode: "1102" }],
      ["HTTP 200 code 1101 (arrears)", { json: envelope(null, 1101) }, "quota", { providerCode: "1101" }],
      [
        "429 code 1303 with Retry-After",
        { status: 429, headers: { "retry-after": "4" }, json: envelope(null, 1303) },
        "retryable",
        { retryAfterMs: 4000, providerCode: "1303" },
      ],
      ["401 code 1002 (bad key)", { status: 401, json: envelope(null, 1002) }, "permanent", { providerCode: "1002" }],
      ["400 code 1201 (bad parameter)", { status: 400, json: envelope(null, 1201) }, "permanent", {}],
      ["500 code 5000", { status: 500, json: envelope(null, 5000) }, "retryable", {}],
      ["503 HTML", { status: 503, body: "<html>maintenance</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
    ],
    /quoting|Jane Doe|maintenance/,
  );

  test("start: malformed JSON, code 0 without a task, a dropped connection and a hang are retryable; none is resent", async () => {
    await kit.expectStartFailuresRetryableOnce({ json: envelope(null) });
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    await kit.expectStatusRetried(
      [
        { status: 500, json: envelope(null, 5000) },
        { status: 429, headers: { "retry-after-ms": "20" }, json: envelope(null, 1302) },
      ],
      task("processing"),
      { state: "running", raw: "processing" },
    );
  });

  test("status: persistent 429 keeps Retry-After; HTTP-200 1301 is policy, 1102 quota; malformed JSON and a hang are retryable", async () => {
    await kit.expectStatusThrottled({ status: 429, headers: { "retry-after": "0" }, json: envelope(null, 1302) });
    fakes().api.on("GET", TASK, { json: envelope(null, 1301) });
    assert.equal((await rejection(provider().status(op))).kind, "policy_rejected");
    fakes().api.on("GET", TASK, { status: 429, json: envelope(null, 1102) });
    assert.equal((await rejection(provider().status(op))).kind, "quota");
    fakes().api.on("GET", TASK, { status: 404, json: envelope(null, 1203) });
    assert.equal((await rejection(provider().status(op))).kind, "permanent");
    await kit.expectStatusUnreadable({ json: envelope({ task_id: "task-1" }) }); // the last: no task_status
  });

  test("a status call refused with an expired token (1004) is re-signed once; refused twice it is retryable", async () => {
    const t0 = Date.now();
    mock.timers.enable({ apis: ["Date"], now: t0 });
    try {
      fakes().api.on("GET", TASK, () => (mock.timers.setTime(t0 + 60_000), { status: 401, json: envelope(null, 1004) }), task("processing"));
      assert.deepEqual(await provider().status(op), { state: "running", raw: "processing" });
    } finally {
      mock.timers.reset();
    }
    const [first, second] = fakes().api.callsTo("GET", TASK).map(claimsOf);
    assert.ok(second!.exp - first!.exp >= 60, "the retry carries a newly signed token");
    fakes().api.reset();
    fakes().api.on("GET", TASK, { status: 401, json: envelope(null, 1003) }, { status: 401, json: envelope(null, 1004) });
    assert.equal((await rejection(provider().status(op))).kind, "retryable");
    assert.equal(fakes().api.callsTo("GET", TASK).length, 2);
  });

  test("an expired result URL is a permanent result-expired; a non-https URL is refused; no credential reaches the CDN", async () => {
    await kit.expectExpiredResult(resultUrl(), "expired", [ACCESS_KEY, SECRET_KEY, "Bearer"]);
  });

  test("photos Kling cannot take are refused before any call", async () => {
    await kit.expectImagesRefused([
      { ...face, mime: "image/webp" },
      { ...face, mime: "image/heic" },
      { ...face, width: 299, height: 400 },
      { ...face, width: 2600, height: 1000 },
      { ...face, bytes: new Uint8Array(10 * 1024 * 1024 + 1) },
    ]);
  });
});
