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
import type { VideoRequest } from "../../src/providers/types.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { read, VIDEO, videoAdapterKit } from "../support/videoAdapterKit.js";
import { script } from "../support/videoScripts/runway.js";

const KEY = `key_test${process.pid}${Date.now()}`; // generated, never a real key
const START = "/v1/image_to_video";
const TASK = "/v1/tasks/task-1";
const fakes = useProviderFakes("RUNWAY_BASE_URL");
const provider = () => createRunwayProvider({ apiKey: KEY });
const op = { id: "task-1", model: "gen4.5" };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: "gen4.5", image: fakes().face, jobId: "job-1", ...over });
const task = (status: string, extra: object = {}) => ({ json: { id: "task-1", status, createdAt: "2026-01-01T00:00:00Z", ...extra } });
const resultUrl = () => `${fakes().cdn.url}/out/video.mp4?_jwt=signed`;
const kit = videoAdapterKit({ fakes, provider, request, op, start: ["POST", START], status: ["GET", TASK] });
const { rejection } = kit;

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
    fakes().api.on("POST", START, { json: { id: "task-1" } }, { json: { id: "task-2" } }, { json: { id: "task-3" } });
    await provider().start(request({ model: "gen4_turbo", options: { durationSeconds: 10 }, image: { ...fakes().face, width: 3000, height: 4000 } }));
    const [call] = fakes().api.callsTo("POST", START);
    assert.match(call!.json.promptText, /comes gently to life/);
    assert.equal(call!.json.ratio, "832:1104");
    assert.equal(call!.json.duration, 10);
    assert.equal(nearestRatio(1920, 1080), "1280:720");
    assert.equal(nearestRatio(1080, 1920), "720:1280");
    for (const durationSeconds of [2, 7]) await provider().start(request({ model: "gen4_turbo", options: { durationSeconds } }));
    assert.deepEqual(
      fakes()
        .api.callsTo("POST", START)
        .slice(1)
        .map((c) => c.json.duration),
      [2, 7],
      "gen4_turbo takes any integer 2–10 s",
    );
    for (const durationSeconds of [1, 11, 4.5]) {
      const error = await provider()
        .start(request({ model: "gen4_turbo", options: { durationSeconds } }))
        .catch((e) => e);
      assert.ok(error instanceof AppError && error.code === "invalid-argument", `${durationSeconds} s is refused`);
    }
    assert.equal(fakes().api.callsTo("POST", START).length, 3);
  });

  test("status walks PENDING → THROTTLED → RUNNING → SUCCEEDED with raw values and progress; the video streams without the key", async () => {
    const { api, cdn } = fakes();
    api.on("GET", TASK, task("PENDING"), task("THROTTLED"), task("RUNNING", { progress: 0.42 }), task("SUCCEEDED", { output: [resultUrl()] }));
    kit.serveVideo("/out/video.mp4");
    const p = provider();
    const seen = await kit.pollStatuses(p, 4);
    assert.deepEqual(seen.slice(0, 3), [
      { state: "queued", raw: "PENDING" },
      { state: "queued", raw: "THROTTLED" },
      { state: "running", raw: "RUNNING", progress: 42 },
    ]);
    const done = seen[3]!;
    assert.equal(done.state, "succeeded");
    assert.equal(done.raw, "SUCCEEDED");
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    await kit.expectStreamsVideo(await p.openResult(done.result));
    const polls = api.callsTo("GET", TASK);
    assert.ok(polls.every((c) => c.headers.authorization === `Bearer ${KEY}` && c.headers["x-runway-version"] === "2024-11-06"));
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("an unknown status value stays running with its raw value", async () => {
    fakes().api.on("GET", TASK, task("WARMING_UP"));
    assert.deepEqual(await provider().status(op), { state: "running", raw: "WARMING_UP" });
  });

  for (const [label, response, state, kind] of [
    [
      "FAILED SAFETY.INPUT.IMAGE",
      task("FAILED", { failure: "Your photo of Jane Doe was rejected", failureCode: "SAFETY.INPUT.IMAGE" }),
      "failed",
      "policy_rejected",
    ],
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

  kit.testStartErrors(
    [
      ["400 without credits", { status: 400, json: { error: "You do not have enough credits to run this task." } }, "quota", {}],
      ["400 invalid asset", { status: 400, json: { error: "promptImage: Invalid data URI." } }, "permanent", {}],
      ["401 bad key", { status: 401, json: { error: "Invalid API key" } }, "permanent", {}],
      ["429 with Retry-After", { status: 429, headers: { "retry-after": "7" }, json: { error: "Too many requests" } }, "retryable", { retryAfterMs: 7000 }],
      ["500", { status: 500, json: { error: "internal" } }, "retryable", {}],
      ["503 HTML", { status: 503, body: "<html>busy</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
    ],
    /enough credits|Invalid|Too many/,
  );

  test("start: malformed JSON, a missing id, a dropped connection and a hang are retryable; none is resent", async () => {
    await kit.expectStartFailuresRetryableOnce({ json: { status: "PENDING" } });
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    await kit.expectStatusRetried(
      [
        { status: 500, json: { error: "x" } },
        { status: 429, headers: { "retry-after-ms": "20" }, json: { error: "x" } },
      ],
      task("RUNNING", { progress: 0.1 }),
      { state: "running", raw: "RUNNING", progress: 10 },
    );
  });

  test("status: persistent 429 keeps Retry-After, 404 is permanent, malformed JSON and a hang are retryable", async () => {
    await kit.expectStatusThrottled({ status: 429, headers: { "retry-after": "0" }, json: { error: "x" } });
    fakes().api.on("GET", TASK, { status: 404, json: { error: "Task not found" } });
    assert.equal((await rejection(provider().status(op))).kind, "permanent");
    await kit.expectStatusUnreadable({ json: { id: "task-1" } }); // the last: no status at all
  });

  test("an expired result URL is a permanent result-expired; a non-https URL is refused; no key reaches the CDN", async () => {
    await kit.expectExpiredResult(resultUrl(), "<Error>AccessDenied: expired</Error>", [KEY]);
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
    await kit.expectImagesRefused([
      { ...fakes().face, mime: "image/heic" },
      { ...fakes().face, bytes: new Uint8Array(4 * 1024 * 1024) },
    ]);
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
