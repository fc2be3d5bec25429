/**
 * Gemini-on-Vertex adapter (through `@google/genai` in Vertex mode) against a wire-level fake of
 * `:generateContent` (shared/providers/google-gemini-image.md): the request the SDK sends, the
 * inline result, policy blocks reported with HTTP 200, and every error class. Auth: an injected
 * authClient answers a generated token, so ADC is never consulted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createGeminiProvider, type GeminiOptions } from "../../src/providers/gemini/index.js";
import { aspectRatioFor } from "../../src/providers/gemini/api.js";
import { vertexBaseUrl } from "../../src/providers/vertex.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { AppError } from "../../src/errors.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { expectUnusableResultsFail, failure } from "../support/providerTest.js";
import type { ImageRequest } from "../../src/providers/types.js";

const TOKEN = `ya29.test-${process.pid}-${Date.now()}`; // generated, never a real token
const PROJECT = "photo-fixer-test";
const path = (model = "gemini-3-pro-image", location = "global") =>
  `/v1beta1/projects/${PROJECT}/locations/${location}/publishers/google/models/${model}:generateContent`;
const authClient = { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${TOKEN}` }) };
const fakes = useProviderFakes("GEMINI_BASE_URL");
const provider = (over: GeminiOptions = {}) => createGeminiProvider({ project: PROJECT, authClient, ...over });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  feature: "style",
  model: "gemini-3-pro-image",
  style: "noir",
  image: fakes().face,
  ...over,
});
const run = (over: Partial<ImageRequest> = {}, p = provider()) => runImageProvider(p, request(over), settings());
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const answer = (parts: object[], finishReason = "STOP") => ({
  json: { candidates: [{ content: { role: "model", parts }, finishReason }], modelVersion: "gemini-3-pro-image" },
});
const imagePart = (bytes: Uint8Array, mimeType = "image/png") => ({ inlineData: { mimeType, data: b64(bytes) } });
const googleError = (code: number, status: string, details: object[] = []) => ({
  status: code,
  json: { error: { code, message: "Quota exceeded for prompt 'make me a red scarf'", status, details } },
});
const calls = (p = path()) => fakes().api.callsTo("POST", p);

describe("gemini adapter", () => {
  test("sends the photo as inlineData with the instruction, IMAGE modality and Bearer token to the Vertex path", async () => {
    const { api, resultPng, resultJpeg } = fakes();
    // An interim "thought" image comes first; the final image is the one returned.
    api.on("POST", path(), answer([{ text: "Here is your photo." }, { ...imagePart(resultJpeg, "image/jpeg"), thought: true }, imagePart(resultPng)]));
    const image = await run();
    assert.ok(Buffer.from(image.bytes).equals(resultPng));
    assert.equal(image.mime, "image/png");
    assert.equal(image.width, 320);

    assert.equal(calls().length, 1);
    const [call] = calls();
    assert.equal(call!.headers.authorization, `Bearer ${TOKEN}`);
    const body = call!.json;
    const [photo, text] = body.contents[0].parts;
    assert.equal(body.contents[0].role, "user");
    assert.deepEqual(photo, { inlineData: { mimeType: "image/jpeg", data: b64(fakes().face.bytes) } }, "raw base64, no data: prefix");
    assert.match(text.text, /film noir/);
    assert.match(text.text, /Keep the person's face/);
    assert.deepEqual(body.generationConfig.responseModalities, ["IMAGE"]);
    assert.equal(body.generationConfig.candidateCount, 1);
    assert.deepEqual(body.generationConfig.imageConfig, { aspectRatio: "1:1" });
    assert.equal(JSON.stringify(body).includes("automaticContinuation"), false, "client-only options stay client-side");
    assert.equal(fakes().cdn.calls.length, 0, "inline result: nothing is downloaded");
    assertNoCredentialSent(fakes().cdn, [TOKEN]);
  });

  test("the edit prompt is the user's; the model and GOOGLE_CLOUD_LOCATION select the path; cutout is not offered", async () => {
    fakes().api.on("POST", path("gemini-3.1-flash-image", "us-central1"), answer([imagePart(fakes().resultPng)]));
    process.env.GOOGLE_CLOUD_LOCATION = "us-central1";
    try {
      await run({
        feature: "edit",
        model: "gemini-3.1-flash-image",
        prompt: "give me a red scarf",
        style: undefined,
        image: { ...fakes().face, width: 3000, height: 4000 },
      });
    } finally {
      delete process.env.GOOGLE_CLOUD_LOCATION;
    }
    const [call] = calls(path("gemini-3.1-flash-image", "us-central1"));
    assert.match(call!.json.contents[0].parts[1].text, /^give me a red scarf/);
    assert.equal(call!.json.generationConfig.imageConfig.aspectRatio, "3:4");
    const { models } = provider();
    assert.deepEqual(models.defaults, { edit: "gemini-3-pro-image", style: "gemini-3-pro-image", enhance: "gemini-3-pro-image" });
  });

  test("Vertex hosts and aspect ratios map as the SDK and docs say", () => {
    assert.equal(vertexBaseUrl("global"), "https://aiplatform.googleapis.com");
    assert.equal(vertexBaseUrl("eu"), "https://aiplatform.eu.rep.googleapis.com");
    assert.equal(vertexBaseUrl("europe-west4"), "https://europe-west4-aiplatform.googleapis.com");
    assert.equal(aspectRatioFor(1920, 1080), "16:9");
    assert.equal(aspectRatioFor(1080, 1350), "4:5");
    assert.equal(aspectRatioFor(0, 0), undefined);
  });

  test("without an injected authClient a loopback fake gets no credential; a non-Google host is refused", async () => {
    fakes().api.on("POST", path(), answer([imagePart(fakes().resultPng)]));
    await run({}, createGeminiProvider({ project: PROJECT }));
    assert.equal(calls()[0]!.headers.authorization, undefined);
    assert.throws(() => createGeminiProvider({ project: PROJECT, baseUrl: "https://proxy.example.com" }), AppError);
    assert.throws(() => createGeminiProvider({ project: "", authClient }), /not configured/);
  });

  for (const [label, response] of [
    ["finishReason IMAGE_SAFETY", answer([], "IMAGE_SAFETY")],
    ["finishReason PROHIBITED_CONTENT", answer([], "PROHIBITED_CONTENT")],
    ["finishReason SAFETY", { json: { candidates: [{ finishReason: "SAFETY" }] } }],
    ["finishReason MODEL_ARMOR", answer([], "MODEL_ARMOR")],
    ["promptFeedback.blockReason", { json: { promptFeedback: { blockReason: "PROHIBITED_CONTENT" } } }],
  ] as const) {
    test(`${label} (HTTP 200) is a policy rejection`, async () => {
      fakes().api.on("POST", path(), response);
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-policy-rejected");
    });
  }

  test("no image (NO_IMAGE, IMAGE_OTHER, a text-only answer, no candidates) is a clear permanent failure", async () => {
    for (const response of [answer([], "NO_IMAGE"), answer([], "IMAGE_OTHER"), answer([{ text: "I can't edit this." }]), { json: { candidates: [] } }]) {
      fakes().api.on("POST", path(), response);
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-rejected");
      assert.match(error.message, /did not produce an image/);
    }
  });

  test("finishReason CONTINUATION (cut at the token limit, automatic continuation off) is transient, sent once", async () => {
    fakes().api.on("POST", path(), {
      json: {
        candidates: [
          { content: { role: "model", parts: [{ text: "thinking", thought: true }] }, finishReason: "CONTINUATION", continuationToken: "Y29udGludWU=" },
        ],
      },
    });
    const error = await failure(run());
    assert.equal(error.code, "unavailable");
    assert.doesNotMatch(error.message, /did not produce an image/);
    assert.equal(calls().length, 1, "no continuation hop is sent behind the job's back");
    assert.equal((calls()[0]!.json as { continuationToken?: unknown }).continuationToken, undefined);
  });

  test("429 RESOURCE_EXHAUSTED is unavailable with RetryInfo passed on; 429 and 5xx are never resent", async () => {
    for (const [response, seconds] of [
      [googleError(429, "RESOURCE_EXHAUSTED", [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" }]), 7],
      [googleError(500, "INTERNAL"), undefined],
      [{ status: 503, body: "<html>Service Unavailable</html>", headers: { "content-type": "text/html" } }, undefined],
    ] as const) {
      fakes().api.reset();
      fakes().api.on("POST", path(), response);
      const error = await failure(run());
      assert.equal(error.code, "unavailable");
      assert.equal(error.details?.retryAfterSeconds, seconds);
      assert.doesNotMatch(error.message, /red scarf/, "our message, not the provider's");
      assert.equal(calls().length, 1);
    }
  });

  test("billing disabled is a quota error; permission, bad request and unknown model are permanent", async () => {
    fakes().api.on(
      "POST",
      path(),
      googleError(403, "PERMISSION_DENIED", [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "BILLING_DISABLED" }]),
    );
    assert.equal((await failure(run())).code, "resource-exhausted");
    for (const [code, status] of [
      [403, "PERMISSION_DENIED"],
      [400, "INVALID_ARGUMENT"],
      [404, "NOT_FOUND"],
    ] as const) {
      fakes().api.on("POST", path(), googleError(code, status));
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-rejected");
    }
  });

  test("malformed JSON and an unexpected shape are provider faults", async () => {
    fakes().api.on("POST", path(), { status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.on("POST", path(), { json: { candidates: "soon" } });
    assert.equal((await failure(run())).code, "unavailable");
  });

  test("a result that is not an image, or too large, fails the job clearly", async () => {
    await expectUnusableResultsFail(
      (bytes) => fakes().api.on("POST", path(), answer([imagePart(bytes)])),
      () => run(),
    );
  });

  test("a photo over the 7 MB inline limit is refused before any call", async () => {
    const error = await failure(run({ image: { ...fakes().face, bytes: new Uint8Array(7_000_001) } }));
    assert.equal(error.code, "invalid-argument");
    assert.equal(fakes().api.calls.length, 0);
  });

  test("the SDK's timeout and a dropped connection are unavailable; a hang is cut off at the job's deadline", async () => {
    fakes().api.on("POST", path(), { delayMs: 2_000, ...answer([imagePart(fakes().resultPng)]) });
    assert.equal((await failure(run({}, provider({ timeoutMs: 100 })))).code, "unavailable");
    fakes().api.on("POST", path(), { drop: true });
    assert.equal((await failure(run())).code, "unavailable");
    assert.equal(calls().length, 2, "each sent once");
    fakes().api.on("POST", path(), { hang: true });
    process.env.GEMINI_POLL_DEADLINE_MS = "200";
    try {
      assert.equal((await failure(run())).code, "deadline-exceeded");
    } finally {
      delete process.env.GEMINI_POLL_DEADLINE_MS;
    }
  });
});
