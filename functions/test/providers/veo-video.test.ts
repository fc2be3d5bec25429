/**
 * Veo-on-Vertex adapter (through `@google/genai` in Vertex mode) against a wire-level fake of
 * `:predictLongRunning` and `:fetchPredictOperation` (shared/providers/google-veo.md): the request
 * the SDK sends, the operation sequence through to a gs:// or inline result, RAI filtering and the
 * person-generation refusal, and every error class. Auth: an injected authClient answers a
 * generated token, so ADC is never consulted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createVeoProvider, type VeoOptions } from "../../src/providers/veo/index.js";
import { AppError } from "../../src/errors.js";
import { ProviderFailure, type VideoRequest } from "../../src/providers/types.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { read, VIDEO, videoAdapterKit } from "../support/videoAdapterKit.js";
import { script } from "../support/videoScripts/veo.js";

const TOKEN = `ya29.test-${process.pid}-${Date.now()}`; // generated, never a real token
const PROJECT = "photo-fixer-test";
const MODEL = "veo-3.1-generate-001";
const RESOURCE = `projects/${PROJECT}/locations/us-central1/publishers/google/models/${MODEL}`;
const START = `/v1/${RESOURCE}:predictLongRunning`;
const FETCH = `/v1/${RESOURCE}:fetchPredictOperation`;
const OP_NAME = `${RESOURCE}/operations/1234`;
const authClient = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${TOKEN}` }) };
const fakes = useProviderFakes("VEO_BASE_URL");
const provider = (over: VeoOptions = {}) => createVeoProvider({ project: PROJECT, location: "us-central1", authClient, ...over });
const op = { id: OP_NAME, model: MODEL };
const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({ model: MODEL, image: fakes().face, jobId: "job-1", ...over });
const operation = (extra: object = {}) => ({ json: { name: OP_NAME, ...extra } });
const googleError = (code: number, status: string, message: string, details: object[] = []) => ({
  status: code,
  json: { error: { code, message, status, details } },
});
const kit = videoAdapterKit({ fakes, provider: () => provider(), request, op, start: ["POST", START], status: ["POST", FETCH] });
const { rejection } = kit;

describe("veo video adapter", () => {
  test("start sends the photo inline with allow_adult, one sample, our storageUri and the Bearer token", async () => {
    fakes().api.on("POST", START, operation());
    const started = await provider().start(request({ prompt: "smile and wave", outputGcsPrefix: "gs://bkt/transient/results/u1/job-1/" }));
    assert.deepEqual(started, { id: OP_NAME, model: MODEL });
    const [call] = fakes().api.callsTo("POST", START);
    assert.equal(call!.headers.authorization, `Bearer ${TOKEN}`);
    const { instances, parameters } = call!.json;
    assert.deepEqual(instances[0].image, { bytesBase64Encoded: Buffer.from(fakes().face.bytes).toString("base64"), mimeType: "image/jpeg" });
    assert.match(instances[0].prompt, /^smile and wave Keep the person's face/);
    assert.deepEqual(parameters, {
      sampleCount: 1,
      storageUri: "gs://bkt/transient/results/u1/job-1/",
      durationSeconds: 8,
      aspectRatio: "9:16",
      personGeneration: "allow_adult",
      generateAudio: false,
    });
    assert.deepEqual(provider().models, { default: "veo-3.1-generate-001", allowed: ["veo-3.1-generate-001", "veo-3.1-fast-generate-001"] });
  });

  test("without a prefix no storageUri is sent; a landscape photo goes 16:9; durations are checked", async () => {
    fakes().api.on("POST", START, operation());
    await provider().start(request({ image: { ...fakes().face, width: 1920, height: 1080 }, options: { durationSeconds: 4 } }));
    const { instances, parameters } = fakes().api.callsTo("POST", START)[0]!.json;
    assert.equal(parameters.storageUri, undefined);
    assert.equal(parameters.aspectRatio, "16:9");
    assert.equal(parameters.durationSeconds, 4);
    assert.match(instances[0].prompt, /comes gently to life/);
    const error = await provider()
      .start(request({ options: { durationSeconds: 5 } }))
      .catch((e) => e);
    assert.ok(error instanceof AppError && error.code === "invalid-argument");
  });

  test("status: not done is running; done with a gs:// video succeeds with the gcsUri", async () => {
    const { api } = fakes();
    api.on(
      "POST",
      FETCH,
      operation(),
      operation({ done: false, metadata: {} }),
      operation({
        done: true,
        response: {
          "@type": "x",
          raiMediaFilteredCount: 0,
          videos: [{ gcsUri: "gs://bkt/transient/results/u1/job-1/1234/sample_0.mp4", mimeType: "video/mp4" }],
        },
      }),
    );
    const p = provider();
    assert.deepEqual(await p.status(op), { state: "running", raw: "done=false" });
    assert.deepEqual(await p.status(op), { state: "running", raw: "done=false" });
    assert.deepEqual(await p.status(op), { state: "succeeded", raw: "done=true", result: { gcsUri: "gs://bkt/transient/results/u1/job-1/1234/sample_0.mp4" } });
    const calls = api.callsTo("POST", FETCH);
    assert.equal(calls.length, 3);
    assert.ok(calls.every((c) => c.headers.authorization === `Bearer ${TOKEN}` && c.json.operationName === OP_NAME));
    const gcs = await p.openResult({ gcsUri: "gs://bkt/x.mp4" }).catch((e) => e);
    assert.ok(gcs instanceof ProviderFailure && gcs.error.kind === "permanent");
  });

  test("an inline video succeeds with bytes that openResult streams", async () => {
    fakes().api.on("POST", FETCH, operation({ done: true, response: { videos: [{ bytesBase64Encoded: VIDEO.toString("base64"), mimeType: "video/mp4" }] } }));
    const status = await provider().status(op);
    assert.equal(status.state, "succeeded");
    assert.ok(status.state === "succeeded" && "bytes" in status.result);
    await kit.expectStreamsVideo(await provider().openResult(status.result));
    assertNoCredentialSent(fakes().cdn, [TOKEN]);
    assert.equal(fakes().cdn.calls.length, 0, "inline result: nothing is downloaded");
  });

  for (const [label, body, kind, code] of [
    [
      "RAI-filtered output",
      {
        done: true,
        response: {
          raiMediaFilteredCount: 1,
          raiMediaFilteredReasons: ["Veo could not generate videos because the output violates Vertex AI's usage guidelines."],
        },
      },
      "policy_rejected",
      "RAI_BLOCKED",
    ],
    [
      "RAI-filtered child (support code)",
      { done: true, response: { raiMediaFilteredCount: 1, raiMediaFilteredReasons: ["… Support codes: 58061214"] } },
      "policy_rejected",
      "RAI_CHILD",
    ],
    ["RAI-filtered without reasons", { done: true, response: { raiMediaFilteredCount: 1 } }, "policy_rejected", "RAI_OUTPUT_FILTERED"],
    [
      "an operation error about person generation",
      { done: true, error: { code: 3, message: "Your project needs to be approved for person or child generation." } },
      "policy_rejected",
      "PERSON_GENERATION_NOT_ALLOWED",
    ],
    ["an INTERNAL operation error", { done: true, error: { code: 13, message: "Internal error" } }, "retryable", "rpc-13"],
    ["an INVALID_ARGUMENT operation error", { done: true, error: { code: 3, message: "Image too small" } }, "permanent", "rpc-3"],
    ["done with nothing", { done: true, response: {} }, "permanent", "no-result"],
  ] as const) {
    test(`status: ${label} fails as ${kind}`, async () => {
      fakes().api.on("POST", FETCH, operation(body));
      const status = await provider().status(op);
      assert.equal(status.state, "failed");
      assert.ok(status.state === "failed");
      assert.equal(status.error.kind, kind);
      assert.equal(status.error.providerCode, code);
      assert.doesNotMatch(status.error.message, /usage guidelines|Support codes|Internal error|Image too small/, "our message, not Google's");
    });
  }

  test("start refused for person generation (400) is policy_rejected, telling admins what to request", async () => {
    fakes().api.on("POST", START, googleError(400, "INVALID_ARGUMENT", "allow_adult for personGeneration is currently not supported."));
    const error = await rejection(provider().start(request()));
    assert.equal(error.kind, "policy_rejected");
    assert.equal(error.providerCode, "PERSON_GENERATION_NOT_ALLOWED");
    assert.match(error.message, /admin must ask Google .* approve person generation/);
    assert.equal(fakes().api.callsTo("POST", START).length, 1);
  });

  kit.testStartErrors(
    [
      [
        "400 safety block with a celebrity support code",
        googleError(
          400,
          "INVALID_ARGUMENT",
          "Veo could not generate videos because the input image violates Vertex AI's usage guidelines. Support codes: 29310472",
        ),
        "policy_rejected",
        { providerCode: "RAI_CELEBRITY" },
      ],
      [
        "403 billing disabled",
        googleError(403, "PERMISSION_DENIED", "Billing disabled for project 'photo-fixer-test'", [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "BILLING_DISABLED" },
        ]),
        "quota",
        {},
      ],
      [
        "403 permission denied",
        googleError(403, "PERMISSION_DENIED", "Permission denied on resource project photo-fixer-test"),
        "permanent",
        { providerCode: "PERMISSION_DENIED" },
      ],
      [
        "429 with Retry-After",
        {
          ...googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model"),
          headers: { "retry-after": "7" },
        },
        "retryable",
        { retryAfterMs: 7000 },
      ],
      ["500", googleError(500, "INTERNAL", "Internal error encountered."), "retryable", {}],
      ["503 HTML", { status: 503, body: "<html>Service Unavailable</html>", headers: { "content-type": "text/html" } }, "retryable", {}],
      [
        "malformed JSON",
        { status: 200, body: "{not json", headers: { "content-type": "application/json" } },
        "retryable",
        { providerCode: "malformed-response" },
      ],
      ["no operation name", { json: { done: false } }, "retryable", { providerCode: "malformed-response" }],
    ],
    /photo-fixer-test|Quota exceeded|usage guidelines/,
    "our message, not Google's",
  );

  test("start: a slow answer times out and a dropped connection fails, each sent once", async () => {
    fakes().api.on("POST", START, { delayMs: 1_000, ...operation() });
    assert.equal((await rejection(provider({ timeoutMs: 100 }).start(request()))).providerCode, "timeout");
    fakes().api.on("POST", START, { drop: true });
    assert.equal((await rejection(provider().start(request()))).kind, "retryable");
    assert.equal(fakes().api.callsTo("POST", START).length, 2);
  });

  test("status: 500 then 429 (Retry-After) are retried until an answer; a timeout and malformed JSON are retryable", async () => {
    await kit.expectStatusRetried(
      [googleError(500, "INTERNAL", "x"), { ...googleError(429, "RESOURCE_EXHAUSTED", "x"), headers: { "retry-after-ms": "20" } }],
      operation({ done: false }),
      { state: "running", raw: "done=false" },
    );
    fakes().api.reset();
    fakes().api.on("POST", FETCH, { hang: true });
    assert.equal((await rejection(provider({ timeoutMs: 100 }).status(op))).providerCode, "timeout");
    assert.equal(fakes().api.callsTo("POST", FETCH).length, 3, "a status call is retried on timeouts too");
    fakes().api.on("POST", FETCH, { status: 200, body: "<html>", headers: { "content-type": "application/json" } });
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
    fakes().api.on("POST", FETCH, operation({ done: "yes" }));
    assert.equal((await rejection(provider().status(op))).providerCode, "malformed-response");
  });

  test("a task id that is not a Vertex operation name is refused without a call", async () => {
    const error = await rejection(provider().status({ id: "../../../other/thing", model: MODEL }));
    assert.equal(error.kind, "permanent");
    assert.equal(fakes().api.calls.length, 0);
  });

  test("photos Veo cannot take are refused before any call", async () => {
    await kit.expectImagesRefused([
      { ...fakes().face, mime: "image/webp" },
      { ...fakes().face, mime: "image/heic" },
      { ...fakes().face, bytes: new Uint8Array(20 * 1024 * 1024 + 1) },
    ]);
  });

  test("without an injected authClient a loopback fake gets no credential; a non-Google host or no project is refused", async () => {
    fakes().api.on("POST", START, operation());
    await createVeoProvider({ project: PROJECT, location: "us-central1" }).start(request());
    assert.equal(fakes().api.calls[0]!.headers.authorization, undefined);
    assert.throws(() => createVeoProvider({ project: PROJECT, baseUrl: "https://proxy.example.com" }), AppError);
    assert.throws(() => createVeoProvider({ project: "", authClient }), /not configured/);
  });

  test("the pipeline script drives start → running → succeeded (inline), and its start error is retryable", async () => {
    const { api, cdn } = fakes();
    script.happyPath({ api, cdn, video: VIDEO });
    const p = createVeoProvider({ project: script.credentials.GOOGLE_CLOUD_PROJECT!, location: "europe-west4" });
    const started = await p.start(request({ outputGcsPrefix: "gs://bkt/transient/results/u1/job-1/" }));
    assert.match(started.id, /^projects\/photo-fixer-test\/locations\/europe-west4\/.+\/operations\/veo-op-1$/);
    assert.equal((await p.status(started)).state, "running");
    const done = await p.status(started);
    assert.ok(done.state === "succeeded");
    assert.ok((await read((await p.openResult(done.result)).body)).equals(VIDEO));
    api.reset();
    script.startError({ api, cdn, video: VIDEO });
    assert.equal((await rejection(p.start(request()))).kind, "retryable");
  });
});
