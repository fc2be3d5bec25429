/**
 * MiniMax Hailuo image-to-video adapter against a wire-level fake of its v1 API
 * (shared/providers/minimax-hailuo.md): request shape (first frame as a data URL), the query →
 * files/retrieve sequence, streaming the result from a CDN fake without the key, `base_resp`
 * errors with HTTP 200, and every error class on start and status.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { createMinimaxVideoProvider } from "../../src/providers/minimax/video.js";
import { AppError } from "../../src/errors.js";
import type { InputImage, VideoRequest } from "../../src/providers/types.js";
import { assertNoCredentialSent, type FakeResponse } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { read, VIDEO, videoAdapterKit } from "../support/videoAdapterKit.js";
import { makeFaceImage } from "../fixtures/images.js";

const KEY = `minimax-video-test-${process.pid}-${Date.now()}`; // generated, never a real key
const START = "/v1/video_generation";
const QUERY = "/v1/query/video_generation";
const RETRIEVE = "/v1/files/retrieve";
const fakes = useProviderFakes("MINIMAX_BASE_URL");
let face: InputImage; // 400×320: the shared 256 px face is under MiniMax's > 300 px short side
before(async () => {
  face = { bytes: await makeFaceImage({ width: 400, height: 320, format: "jpeg" }), mime: "image/jpeg", width: 400, height: 320 };
});

const provider = () => createMinimaxVideoProvider({ apiKey: KEY });
const op = { id: "176843862716480", model: "MiniMax-Hailuo-2.3" };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: "MiniMax-Hailuo-2.3", image: face, jobId: "job-1", ...over });
const ok = { status_code: 0, status_msg: "success" };
const baseResp = (status_code: number) => ({ status_code, status_msg: `provider text quoting the prompt: Jane Doe (${status_code})` });
const query = (status: string, extra: object = {}): FakeResponse => ({ json: { task_id: op.id, status, base_resp: ok, ...extra } });
const resultUrl = () => `${fakes().cdn.url}/video/output_aigc.mp4?Expires=1&Signature=s`;
const retrieved = (url = resultUrl()): FakeResponse => ({
  json: { file: { file_id: 176844028768320, bytes: VIDEO.length, filename: "output_aigc.mp4", purpose: "video_generation", download_url: url }, base_resp: ok },
});
const kit = videoAdapterKit({ fakes, provider, request, op, start: ["POST", START], status: ["GET", QUERY] });
const { rejection } = kit;

describe("minimax video adapter", () => {
  test("start sends the photo as a data URL with Bearer key, Hailuo-2.3 768P 6 s, our prompt, no prompt optimizer", async () => {
    fakes().api.on("POST", START, { json: { task_id: op.id, base_resp: ok } });
    const started = await provider().start(request({ prompt: "wave at the camera" }));
    assert.deepEqual(started, op);
    const [call] = fakes().api.callsTo("POST", START);
    assert.equal(call!.headers.authorization, `Bearer ${KEY}`);
    assert.match(String(call!.headers["content-type"]), /application\/json/);
    const body = call!.json;
    assert.equal(body.model, "MiniMax-Hailuo-2.3");
    assert.equal(body.first_frame_image, `data:image/jpeg;base64,${Buffer.from(face.bytes).toString("base64")}`);
    assert.match(body.prompt, /^wave at the camera Keep the person's face/);
    assert.equal(body.prompt_optimizer, false);
    assert.equal(body.duration, 6);
    assert.equal(body.resolution, "768P");
    assert.deepEqual(provider().models, { default: "MiniMax-Hailuo-2.3", allowed: ["MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"] });
    assert.equal(provider().cancel, undefined, "MiniMax documents no cancel");
    assert.equal(provider().deleteTask, undefined, "nor a delete");
  });

  test("per-model resolutions and durations; invalid options are refused before any call", async () => {
    fakes().api.on("POST", START, { json: { task_id: 42, base_resp: ok } });
    const started = await provider().start(request({ model: "MiniMax-Hailuo-02", options: { resolution: "512P", durationSeconds: 10 } }));
    assert.deepEqual(started, { id: "42", model: "MiniMax-Hailuo-02" }, "a numeric task id is kept as a string");
    const [call] = fakes().api.callsTo("POST", START);
    assert.deepEqual([call!.json.resolution, call!.json.duration], ["512P", 10]);
    assert.match(call!.json.prompt, /comes gently to life/);
    fakes().api.reset();
    for (const over of [
      { options: { resolution: "1080P", durationSeconds: 10 } },
      { options: { resolution: "512P" } },
      { options: { durationSeconds: 5 } },
      { prompt: "x".repeat(1990) },
    ]) {
      const error = await provider()
        .start(request(over))
        .catch((e) => e);
      assert.ok(error instanceof AppError && error.code === "invalid-argument", String(error));
    }
    assert.equal(fakes().api.calls.length, 0);
  });

  test("status walks Preparing → Queueing → Processing → (unknown) → Success, retrieving the download URL; the video streams without the key", async () => {
    const { api, cdn } = fakes();
    api.on(
      "GET",
      QUERY,
      query("Preparing"),
      query("Queueing"),
      query("Processing"),
      query("Rendering"),
      query("Success", { file_id: "176844028768320", video_width: 1366, video_height: 768 }),
    );
    api.on("GET", RETRIEVE, retrieved());
    kit.serveVideo("/video/output_aigc.mp4");
    const p = provider();
    const seen = await kit.pollStatuses(p, 5);
    assert.deepEqual(seen.slice(0, 4), [
      { state: "queued", raw: "Preparing" },
      { state: "queued", raw: "Queueing" },
      { state: "running", raw: "Processing" },
      { state: "running", raw: "Rendering" },
    ]);
    const done = seen[4]!;
    assert.ok(done.state === "succeeded" && "url" in done.result && !done.result.headers);
    assert.equal(done.raw, "Success");
    assert.equal(done.result.url, resultUrl());
    const [retrieve] = api.callsTo("GET", RETRIEVE);
    assert.equal(retrieve!.query.get("file_id"), "176844028768320");
    assert.equal(api.callsTo("GET", RETRIEVE).length, 1, "retrieved only once succeeded");
    assert.ok(api.callsTo("GET", QUERY).every((c) => c.query.get("task_id") === op.id && c.headers.authorization === `Bearer ${KEY}`));
    assert.equal(retrieve!.headers.authorization, `Bearer ${KEY}`);
    await kit.expectStreamsVideo(await p.openResult(done.result));
    assertNoCredentialSent(cdn, [KEY, "Bearer"]);
  });

  test("a download URL on MiniMax's own API host is fetched with the key", async () => {
    const { api } = fakes();
    api.on("GET", "/v1/files/download", { body: VIDEO, headers: { "content-type": "video/mp4" } });
    const opened = await provider().openResult({ url: `${api.url}/v1/files/download?file_id=1` });
    assert.ok((await read(opened.body)).equals(VIDEO));
    assert.equal(api.callsTo("GET", "/v1/files/download")[0]!.headers.authorization, `Bearer ${KEY}`);
  });

  for (const [label, response, kind, providerCode] of [
    ["Fail with 1026 (input sensitive)", query("Fail", { base_resp: baseResp(1026) }), "policy_rejected", "1026"],
    ["Fail with 1027 (output sensitive)", query("Fail", { base_resp: baseResp(1027) }), "policy_rejected", "1027"],
    ["Fail without a code", query("Fail", { base_resp: { status_code: 0, status_msg: "Jane Doe failed" } }), "permanent", "Fail"],
    ["Success without a file_id", query("Success"), "permanent", "no-result"],
  ] as const) {
    test(`a task ${label} (HTTP 200) ends failed as ${kind}, with our message`, async () => {
      fakes().api.on("GET", QUERY, response);
      const status = await provider().status(op);
      assert.ok(status.state === "failed");
      assert.equal(status.error.kind, kind);
      assert.equal(status.error.providerCode, providerCode);
      assert.equal(status.raw, (response.json as { status: string }).status);
      assert.doesNotMatch(status.error.message, /Jane Doe|quoting|image/, "our message (about a video), not the provider's");
      assert.equal(fakes().api.callsTo("GET", RETRIEVE).length, 0);
    });
  }

  kit.testStartErrors(
    [
      ["HTTP 200 base_resp 1026 (input sensitive)", { json: { task_id: "", base_resp: baseResp(1026) } }, "policy_rejected", { providerCode: "1026" }],
      ["HTTP 200 base_resp 1008 (balance)", { json: { task_id: "", base_resp: baseResp(1008) } }, "quota", { providerCode: "1008" }],
      ["HTTP 200 base_resp 1002 (rate limit)", { json: { task_id: "", base_resp: baseResp(1002) } }, "retryable", { providerCode: "1002" }],
      ["HTTP 200 base_resp 1004 (key/host mismatch)", { json: { base_resp: baseResp(1004) } }, "permanent", { providerCode: "1004" }],
      ["HTTP 200 base_resp 2013 (invalid params)", { json: { base_resp: baseResp(2013) } }, "permanent", { providerCode: "2013" }],
      ["429 with Retry-After", { status: 429, headers: { "retry-after": "7" }, json: { base_resp: baseResp(1002) } }, "retryable", { retryAfterMs: 7000 }],
      ["401", { status: 401, json: { base_resp: baseResp(1004) } }, "permanent", {}],
      ["500", { status: 500, json: { base_resp: baseResp(1000) } }, "retryable", {}],
      ["502 HTML", { status: 502, body: "<html>Bad Gateway</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
    ],
    /quoting|Jane Doe|Gateway/,
  );

  test("start: malformed JSON, a missing task id, a dropped connection and a hang are retryable; none is resent", async () => {
    await kit.expectStartFailuresRetryableOnce({ json: { base_resp: ok } });
  });

  test("status: 500 then 429 (Retry-After) are retried, a later 200 wins", async () => {
    await kit.expectStatusRetried(
      [
        { status: 500, json: { base_resp: baseResp(1000) } },
        { status: 429, headers: { "retry-after-ms": "20" }, json: {} },
      ],
      query("Processing"),
      { state: "running", raw: "Processing" },
    );
  });

  test("status: persistent 429 keeps Retry-After; HTTP-200 base_resp errors are classified; malformed JSON and a hang are retryable", async () => {
    await kit.expectStatusThrottled({ status: 429, headers: { "retry-after": "0" }, json: { base_resp: baseResp(1002) } });
    for (const [code, kind] of [
      [1002, "retryable"],
      [1008, "quota"],
      [1026, "policy_rejected"],
      [1004, "permanent"],
    ] as const) {
      fakes().api.on("GET", QUERY, { json: { task_id: "", status: "", base_resp: baseResp(code) } });
      assert.equal((await rejection(provider().status(op))).kind, kind, `base_resp ${code}`);
    }
    await kit.expectStatusUnreadable({ json: { task_id: op.id, base_resp: ok } }); // the last: no status at all
  });

  test("status: a failing files/retrieve after Success is classified like any call (retried, then base_resp or malformed)", async () => {
    fakes().api.on("GET", QUERY, query("Success", { file_id: 176844028768320 }));
    fakes().api.on("GET", RETRIEVE, { status: 503, json: {} }, retrieved());
    const status = await provider().status(op);
    assert.equal(status.state, "succeeded");
    assert.equal(fakes().api.callsTo("GET", RETRIEVE).length, 2, "retrieve is idempotent: retried");
    fakes().api.on("GET", RETRIEVE, { json: { file: null, base_resp: baseResp(1008) } });
    assert.equal((await rejection(provider().status(op))).kind, "quota");
    fakes().api.on("GET", RETRIEVE, { json: { file: { file_id: 1 }, base_resp: ok } }); // no download_url
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
  });

  test("an expired download URL is a permanent result-expired; a non-https URL is refused; no key reaches the CDN", async () => {
    await kit.expectExpiredResult(resultUrl(), "<Error>AccessDenied: Request has expired</Error>", [KEY, "Bearer"]);
  });

  test("photos MiniMax cannot take are refused before any call", async () => {
    await kit.expectImagesRefused([
      { ...face, mime: "image/heic" },
      { ...face, width: 300, height: 400 },
      { ...face, width: 2600, height: 1000 },
      { ...face, bytes: new Uint8Array(20 * 1024 * 1024) },
    ]);
  });
});
