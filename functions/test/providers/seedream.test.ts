/**
 * ByteDance Seedream adapter against a wire-level fake of the Ark images API
 * (shared/providers/bytedance-seedream.md): request shape, the synchronous base64 answer, the URL
 * fallback, and every error class (Ark names moderation and billing in the body of a 400/403).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSeedreamProvider } from "../../src/providers/seedream/index.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent, type FakeResponse } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { makeFaceImage } from "../fixtures/images.js";
import { expectDropAndHang, expectResultDownloadFailures, expectSubmitNotRetried, failure } from "../support/providerTest.js";
import type { ImageRequest } from "../../src/providers/types.js";

const KEY = `ark-test-${process.pid}-${Date.now()}`; // generated, never a real key
const MODEL = "doubao-seedream-5-0-260128";
const PATH = "/images/generations";
const fakes = useProviderFakes("SEEDREAM_BASE_URL");
const provider = () => createSeedreamProvider({ apiKey: KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ feature: "style", model: MODEL, style: "noir", image: fakes().face, ...over });
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());
const answer = (...responses: FakeResponse[]) => fakes().api.on("POST", PATH, ...responses);
const b64Answer = (bytes: Buffer): FakeResponse => ({
  json: { model: MODEL, created: 1767225600, data: [{ b64_json: bytes.toString("base64"), size: "320x320" }], usage: { generated_images: 1 } },
});
const arkError = (status: number, code: string, headers: Record<string, string> = {}): FakeResponse => ({
  status,
  headers,
  json: { error: { code, message: `provider text quoting the prompt: film noir (${code})`, param: "", type: "BadRequest" } },
});

describe("seedream adapter", () => {
  test("sends the photo as a data URL with the instruction and Bearer key, and returns the base64 image", async () => {
    answer(b64Answer(fakes().resultJpeg));
    const image = await run();
    assert.equal(image.mime, "image/jpeg");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultJpeg));

    const calls = fakes().api.callsTo("POST", PATH);
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.equal(call.headers.authorization, `Bearer ${KEY}`);
    assert.match(String(call.headers["content-type"]), /application\/json/);
    assert.equal(call.json.model, MODEL);
    assert.equal(call.json.image, `data:image/jpeg;base64,${Buffer.from(fakes().face.bytes).toString("base64")}`);
    assert.match(call.json.prompt, /film noir/);
    assert.match(call.json.prompt, /Keep the person's face/);
    assert.equal(call.json.size, "2K");
    assert.equal(call.json.response_format, "b64_json");
    assert.equal(call.json.watermark, false, "the default watermark is turned off explicitly");
    assert.equal(call.json.sequential_image_generation, undefined, "single image is the default; not every model takes the field");
  });

  test("SeedEdit keeps the input's size; the edit prompt is the user's", async () => {
    answer(b64Answer(fakes().resultPng));
    const image = await run({ feature: "edit", prompt: "give me a red scarf", style: undefined, model: "doubao-seededit-3-0-i2i-250628" });
    assert.equal(image.mime, "image/png", "the verified type wins over the assumed one");
    const call = fakes().api.calls[0]!;
    assert.equal(call.json.size, "adaptive");
    assert.match(call.json.prompt, /^give me a red scarf/);
  });

  test("serves edit, style and enhance (not cutout) with the newest Seedream; BytePlus ids follow the host", () => {
    const volcengine = createSeedreamProvider({ apiKey: KEY, baseUrl: "https://ark.cn-beijing.volces.com/api/v3" }).models;
    assert.deepEqual(volcengine.defaults, { edit: MODEL, style: MODEL, enhance: MODEL });
    assert.ok(volcengine.allowed.includes("doubao-seedream-4-5-251128"));
    const byteplus = createSeedreamProvider({ apiKey: KEY, baseUrl: "https://ark.ap-southeast.bytepluses.com/api/v3" }).models;
    assert.equal(byteplus.defaults.edit, "seedream-5-0-260128");
    assert.equal(byteplus.defaults.cutout, undefined);
    assert.ok(byteplus.allowed.every((m) => !m.startsWith("doubao-")));
  });

  for (const code of [
    "InputTextSensitiveContentDetected",
    "InputImageSensitiveContentDetected",
    "InputImageSensitiveContentDetected.PrivacyInformation",
    "OutputImageSensitiveContentDetected",
    "SensitiveContentDetected.SevereViolation",
  ]) {
    test(`HTTP 400 ${code} is a policy rejection, in our words`, async () => {
      answer(arkError(400, code));
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-policy-rejected");
      assert.doesNotMatch(error.message, /film noir|Sensitive|prompt/);
      assert.equal(fakes().api.callsTo("POST", PATH).length, 1);
    });
  }

  test("a blocked image reported inside a 200 answer is a policy rejection", async () => {
    answer({ json: { model: MODEL, created: 1, data: [{ error: { code: "OutputImageSensitiveContentDetected", message: "blocked" } }] } });
    const error = await failure(run());
    assert.equal(error.reason, "provider-policy-rejected");
  });

  test("an unpaid account (403 AccountOverdueError) is a quota error", async () => {
    answer(arkError(403, "AccountOverdueError"));
    const error = await failure(run());
    assert.equal(error.code, "resource-exhausted");
    assert.equal(error.reason, "provider-quota");
  });

  test("429 and 5xx are never retried (the image may be generating and billed); Retry-After is passed on", async () => {
    const responses = [
      arkError(429, "RateLimitExceeded.EndpointRPMExceeded", { "retry-after": "3" }),
      { status: 500, json: { error: { code: "InternalServiceError" } } },
      { status: 503, body: "<html>overloaded</html>" },
    ];
    await expectSubmitNotRetried(() => fakes().api, ["POST", PATH], run, responses, 3);
  });

  test("bad requests, refused keys and unknown codes are permanent", async () => {
    for (const response of [
      arkError(400, "InvalidParameter"),
      arkError(401, "AuthenticationError"),
      arkError(404, "InvalidEndpointOrModel.NotFound"),
      arkError(400, "SomethingNew"),
    ]) {
      fakes().api.reset();
      answer(response);
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-rejected");
    }
  });

  test("malformed or unexpected 200 answers", async () => {
    answer({ status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    answer({ json: { model: MODEL } }); // no data
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    answer({ json: { model: MODEL, data: [] } });
    assert.equal((await failure(run())).reason, "provider-rejected");
    fakes().api.reset();
    answer({ json: { data: [{ b64_json: Buffer.from("<html>not an image</html>").toString("base64") }] } });
    assert.equal((await failure(run())).code, "unavailable", "bytes that are not an image are the provider's fault");
  });

  test("a base64 result larger than the cap fails clearly", async () => {
    answer(b64Answer(Buffer.alloc(31_000_000, 1)));
    const error = await failure(run());
    assert.equal(error.reason, "provider-rejected");
  });

  test("a URL answer is downloaded at once without the key; expired, non-image and oversized results fail", async () => {
    const { api, cdn, resultJpeg } = fakes();
    const url = `${cdn.url}/ark/result.jpeg?X-Tos-Signature=abc`;
    api.on("POST", PATH, { json: { model: MODEL, data: [{ url, size: "320x320" }] } });
    cdn.on("GET", "/ark/result.jpeg", { body: resultJpeg, headers: { "content-type": "image/jpeg" } });
    assert.ok(Buffer.from((await run()).bytes).equals(resultJpeg));
    await expectResultDownloadFailures(cdn, "/ark/result.jpeg", "<Error>AccessDenied: Request has expired</Error>", run);
    assert.ok(cdn.calls.length >= 4);
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("photos the API will not take are refused before anything is sent", async () => {
    answer(b64Answer(fakes().resultJpeg));
    const heic = await failure(run({ image: { ...fakes().face, mime: "image/heic" } }));
    assert.equal(heic.reason, "provider-rejected");
    const huge = await failure(run({ image: { ...fakes().face, bytes: new Uint8Array(10_000_001) } }));
    assert.equal(huge.reason, "provider-rejected");
    assert.equal(fakes().api.calls.length, 0);
  });

  test("WebP goes to Seedream 4.x/5.x as it is; SeedEdit 3.0 takes only JPEG or PNG", async () => {
    answer(b64Answer(fakes().resultJpeg));
    const webpBytes = await makeFaceImage({ width: 256, height: 256, format: "webp" });
    const webp = { bytes: webpBytes, mime: "image/webp" as const, width: 256, height: 256 };
    for (const model of [MODEL, "doubao-seedream-4-5-251128", "doubao-seedream-4-0-250828"]) await run({ model, image: webp });
    const sent = fakes()
      .api.callsTo("POST", PATH)
      .map((call) => String((call.json as { image: string }).image));
    assert.equal(sent.length, 3);
    for (const image of sent) assert.equal(image, `data:image/webp;base64,${webpBytes.toString("base64")}`, "the WebP bytes, unconverted");

    const seededit = await failure(run({ model: "doubao-seededit-3-0-i2i-250628", feature: "edit", prompt: "a red scarf", style: undefined, image: webp }));
    assert.equal(seededit.reason, "provider-rejected");
    assert.equal(fakes().api.calls.length, 3, "SeedEdit's refusal happens before anything is sent");
  });

  test("a missing edit prompt is the client's error, before anything is sent", async () => {
    const error = await failure(run({ feature: "edit", style: undefined }));
    assert.equal(error.code, "invalid-argument");
    assert.equal(fakes().api.calls.length, 0);
  });

  test("a dropped connection is transient; a hanging provider is cut off at the deadline", async () => {
    await expectDropAndHang(() => fakes().api, ["POST", PATH], "seedream", run);
  });

  test("classify maps what the job hands it: Ark codes first, then transport", () => {
    const p = provider();
    assert.equal(p.classify(new TypeError("fetch failed")).kind, "retryable");
    assert.equal(p.classify(Object.assign(new Error("t"), { name: "TimeoutError" })).kind, "retryable");
    assert.equal(p.classify(new Error("boom")).kind, "permanent");
  });
});
