/**
 * Runway image-to-video adapter against a wire-level fake of its API (shared/providers/runway.md):
 * request shape, the task status sequence, streaming the result from a CDN fake without the key,
 * cancel/delete, and every error class on start and status.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRunwayProvider } from "../../src/providers/runway/index.js";
import { nearestRatio } from "../../src/providers/runway/api.js";
import { AppError } from "../../src/errors.js";
import { ProviderFailure, type ProviderError, type VideoRequest, type VideoStatus } from "../../src/providers/types.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { script } from "../support/videoScripts/runway.js";

const KEY = `key_test${process.pid}${Date.now()}`; // generated, never a real key
const START = "/v1/image_to_video";
const TASK = "/v1/tasks/task-1";
const VIDEO = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(1000, 7)]);
const fakes = useProviderFakes("RUNWAY_BASE_URL");
const provider = () => createRunwayProvider({ apiKey: KEY });
const op = { id: "task-1", model: "gen4.5" };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: "gen4.5", image: fakes().face, jobId: "job-1", ...over });
const task = (status: string, extra: object = {}) => ({ json: { id: "task-1", status, createdAt: "2026-01-01T00:00:00Z", ...extra } });
const resultUrl = () => `${fakes().cdn.url}/out/video.mp4?_jwt=signed`;

/** The classified error a call rejects with (the adapter's classify, as the job uses it). */
async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const error = await p.then(() => assert.fail("expected a rejection"), (e) => e);
  assert.ok(!(error instanceof AppError), `unexpected AppError ${error}`);
  return provider().classify(error);
}
const read = async (body: ReadableStream<Uint8Array>) => Buffer.from(await new Response(body).arrayBuffer());

describe("runway video adapter", () => {
  test("start sends the photo as a data URI with Bearer key, X-Runway-Version, prompt, ratio and duration", async () => {
    fakes().api.on("POST", START, { json: { id: "task-1" } });
    const started = await provider().start(request({ prompt: "wave at the camera" }));
    assert.deepEqual(started, { id: "task-1", model: "gen4.5" });
    const [call] = fakes().api.callsTo("POST", START);
    assert.equal(call!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(call!.headers["x-runway-version"], "2024-11-06");
    assert.equal(call!.json.model, "gen4.5");
    assert.equal(call!.json.promptImage, `data:image/jpeg;base64,${Buffer.from(fakes().face.bytes).toString("base64")}`);
    assert.match(call!.json.promptText, /^wave at the camera Keep the person's face/);
    assert.equal(call!.json.ratio, "960:960", "a square photo gets the square output");
    assert.equal(call!.json.duration, 5);
    assert.deepEqual(provider().models, { default: "gen4.5", allowed: ["gen4.5", "gen4_turbo"] });
  });

  test("a default prompt, the nearest ratio, and per-model durations", async () => {
    fakes().api.on("POST", START, { json: { id: "task-1" } });
    await provider().start(request({ model: "gen4_turbo", options: { durationSeconds: 10 }, image: { ...fakes().face, width: 3000, height: 4000 } }));
    const [call] = fakes().api.callsTo("POST", START);
    assert.match(call!.json.promptText, /comes gently to life/);
    assert.equal(call!.json.ratio, "832:1104");
    assert.equal(call!.json.duration, 10);
    assert.equal(nearestRatio(1920, 1080), "1280:720");
    assert.equal(nearestRatio(1080, 1920), "720:1280");
    const error = await provider().start(request({ model: "gen4_turbo", options: { durationSeconds: 7 } })).catch((e) => e);
    assert.ok(error instanceof AppError && error.code === "invalid-argument");
  });

  test("status walks PENDING → THROTTLED → RUNNING → SUCCEEDED with raw values and progress; the video streams without the key", async () => {
    const { api, cdn } = fakes();
    api.on("GET", TASK, task("PENDING"), task("THROTTLED"), task("RUNNING", { progress: 0.42 }), task("SUCCEEDED", { output: [resultUrl()] }));
    cdn.on("GET", "/out/video.mp4", { body: VIDEO, headers: { "content-type": "video/mp4", "content-length": String(VIDEO.length) } });
    const p = provider();
    const seen: VideoStatus[] = [];
    for (let i = 0; i < 4; i++) seen.push(await p.status(op));
    assert.deepEqual(seen.slice(0, 3), [
      { state: "queued", raw: "PENDING" },
      { state: "queued", raw: "THROTTLED" },
      { state: "running", raw: "RUNNING", progress: 42 },
    ]);
    const done = seen[3]!;
    assert.equal(done.state, "succeeded");
    assert.equal(done.raw, "SUCCEEDED");
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    const opened = await p.openResult(done.result);
    assert.ok((await read(opened.body)).equals(VIDEO));
    assert.equal(opened.contentType, "video/mp4");
    assert.equal(opened.contentLength, VIDEO.length);
    const polls = api.callsTo("GET", TASK);
    assert.ok(polls.every((c) => c.headers.authorization === `Bearer ${KEY}` && c.headers["x-runway-version"] === "2024-11-06"));
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("an unknown status value stays running with its raw value", async () => {
    fakes().api.on("GET", TASK, task("WARMING_UP"));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "WARMING_UP" });
  });

  for (const [label, response, state, kind] of [
    ["FAILED SAFETY.INPUT.IMAGE", task("FAILED", { failure: "Your photo of Jane Doe was rejected", failureCode: "SAFETY.INPUT.IMAGE" }), "failed", "policy_rejected"],
    ["FAILED SAFETY.OUTPUT.VIDEO", task("FAILED", { failure: "x", failureCode: "SAFETY.OUTPUT.VIDEO" }), "failed", "policy_rejected"],
    ["FAILED INTERNAL.BAD_OUTPUT.CODE01", task("FAILED", { failure: "x", failureCode: "INTERNAL.BAD_OUTPUT.CODE01" }), "failed", "retryable"],
    ["FAILED INTERNAL", task("FAILED", { failure: "x", failureCode: "INTERNAL" }), "failed", "retryable"],
    ["FAILED ASSET.INVALID", task("FAILED", { failure: "x", failureCode: "ASSET.INVALID" }), "failed", "permanent"],
    ["FAILED without a code", task("FAILED", { failure: "x" }), "failed", "permanent"],
    ["SUCCEEDED without output", task("SUCCEEDED", { output: [] }), "failed", "permanent"],
    ["CANCELLED", task("CANCELLED"), "cancelled", "permanent"],
  ] as const) {
    test(`a task ${label} (HTTP 200) ends ${state} as ${kind}`, async () => {
      fakes().api.on("GET", TASK, response);
      const status = await provider().status(op);
      assert.equal(status.state, state);
      assert.ok(status.state === "failed" || status.state === "cancelled");
      assert.equal(status.error.kind, kind);
      assert.equal(status.raw, response.json.status);
      assert.doesNotMatch(status.error.message, /Jane Doe|rejected$/, "our message, not the provider's");
    });
  }

  for (const [label, response, kind, extra] of [
    ["400 without credits", { status: 400, json: { error: "You do not have enough credits to run this task." } }, "quota", {}],
    ["400 invalid asset", { status: 400, json: { error: "promptImage: Invalid data URI." } }, "permanent", {}],
    ["401 bad key", { status: 401, json: { error: "Invalid API key" } }, "permanent", {}],
    ["429 with Retry-After", { status: 429, headers: { "retry-after": "7" }, json: { error: "Too many requests" } }, "retryable", { retryAfterMs: 7000 }],
    ["500", { status: 500, json: { error: "internal" } }, "retryable", {}],
    ["503 HTML", { status: 503, body: "<html>busy</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
  ] as const) {
    test(`start answered ${label} is ${kind} and is sent once`, async () => {
      fakes().api.on("POST", START, response);
      const error = await rejection(provider().start(request()));
      assert.equal(error.kind, kind);
      for (const [k, v] of Object.entries(extra)) assert.equal(error[k as keyof ProviderError], v);
      assert.doesNotMatch(error.message, /enough credits|Invalid|Too many/, "our message, not the provider's");
      assert.equal(fakes().api.callsTo("POST", START).length, 1);
    });
  }

  test("start: malformed JSON, a missing id, a dropped connection and a hang are retryable; none is resent", async () => {
    for (const response of [{ status: 200, body: "{not json", headers: { "content-type": "application/json" } }, { json: { status: "PENDING" } }, { drop: true }]) {
      fakes().api.reset();
      fakes().api.on("POST", START, response);
      assert.equal((await rejection(provider().start(request()))).kind, "retryable");
      assert.equal(fakes().api.callsTo("POST", START).length, 1);
    }
    fakes().api.on("POST", START, { hang: true });
    const error = await rejection(provider().start(request(), AbortSignal.timeout(150)));
    assert.equal(error.kind, "retryable");
    assert.equal(error.providerCode, "timeout");
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    fakes().api.on("GET", TASK, { status: 500, json: { error: "x" } }, { status: 429, headers: { "retry-after-ms": "20" }, json: { error: "x" } }, task("RUNNING", { progress: 0.1 }));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "RUNNING", progress: 10 });
    assert.equal(fakes().api.callsTo("GET", TASK).length, 3);
  });

  test("status: persistent 429 keeps Retry-After, 404 is permanent, malformed JSON and a hang are retryable", async () => {
    fakes().api.on("GET", TASK, { status: 429, headers: { "retry-after": "0" }, json: { error: "x" } });
    const throttled = await rejection(provider().status(op));
    assert.equal(throttled.kind, "retryable");
    assert.equal(throttled.retryAfterMs, 0);
    assert.equal(fakes().api.callsTo("GET", TASK).length, 3, "two retries, then the job backs off");
    fakes().api.on("GET", TASK, { status: 404, json: { error: "Task not found" } });
    assert.equal((await rejection(provider().status(op))).kind, "permanent");
    fakes().api.on("GET", TASK, { status: 200, body: "<html>", headers: { "content-type": "application/json" } });
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
    fakes().api.on("GET", TASK, { json: { id: "task-1" } }); // no status at all
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
    fakes().api.on("GET", TASK, { hang: true });
    assert.equal((await rejection(provider().status(op, AbortSignal.timeout(150)))).providerCode, "timeout");
  });

  test("an expired result URL is a permanent result-expired; a non-https URL is refused; no key reaches the CDN", async () => {
    fakes().cdn.on("GET", "/out/video.mp4", { status: 403, body: "<Error>AccessDenied: expired</Error>" });
    const error = await provider().openResult({ url: resultUrl() }).catch((e) => e);
    assert.ok(error instanceof ProviderFailure);
    assert.equal(error.error.kind, "permanent");
    assert.equal(error.error.providerCode, "result-expired");
    const insecure = await provider().openResult({ url: "http://cdn.example.com/v.mp4" }).catch((e) => e);
    assert.equal(insecure.error.providerCode, "insecure-result-url");
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("cancel and deleteTask DELETE the task with the key; a task already gone is fine; other failures surface", async () => {
    fakes().api.on("DELETE", TASK, { status: 204 }, { status: 404, json: { error: "Not found" } }, { status: 500, json: { error: "x" } });
    const p = provider();
    await p.cancel!(op);
    await p.deleteTask!(op);
    const calls = fakes().api.callsTo("DELETE", TASK);
    assert.equal(calls.length, 2);
    assert.ok(calls.every((c) => c.headers.authorization === `Bearer ${KEY}` && c.headers["x-runway-version"] === "2024-11-06"));
    assert.equal((await rejection(p.deleteTask!(op))).kind, "retryable");
  });

  test("photos Runway cannot take are refused before any call", async () => {
    for (const image of [{ ...fakes().face, mime: "image/heic" as const }, { ...fakes().face, bytes: new Uint8Array(4 * 1024 * 1024) }]) {
      const error = await provider().start(request({ image })).catch((e) => e);
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "invalid-argument");
      assert.equal(error.reason, "image-unsupported-by-provider");
    }
    assert.equal(fakes().api.calls.length, 0);
  });

  test("the pipeline script drives start → running → succeeded → download, and its start error is retryable", async () => {
    const { api, cdn } = fakes();
    script.happyPath({ api, cdn, video: VIDEO });
    const p = createRunwayProvider({ apiKey: script.credentials.RUNWAYML_API_SECRET! });
    const started = await p.start(request());
    assert.equal((await p.status(started)).state, "running");
    const done = await p.status(started);
    assert.ok(done.state === "succeeded");
    assert.ok((await read((await p.openResult(done.result)).body)).equals(VIDEO));
    await p.deleteTask!(started);
    api.reset();
    script.startError({ api, cdn, video: VIDEO });
    assert.equal((await rejection(p.start(request()))).kind, "retryable");
  });
});
