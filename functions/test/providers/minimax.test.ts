/**
 * MiniMax image-01 adapter against a wire-level fake of its documented API
 * (shared/providers/minimax-image.md): request shape (subject reference as a data URL), the
 * synchronous base64 answer, `base_resp` errors reported with HTTP 200, the URL fallback, and
 * every transport error class.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMinimaxProvider } from "../../src/providers/minimax/index.js";
import { aspectRatioFor } from "../../src/providers/minimax/api.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent, type FakeResponse } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { expectDropAndHang, expectResultDownloadFailures, expectSubmitNotRetried, failure } from "../support/providerTest.js";
import type { ImageRequest } from "../../src/providers/types.js";

const KEY = `minimax-test-${process.pid}-${Date.now()}`; // generated, never a real key
const PATH = "/v1/image_generation";
const fakes = useProviderFakes("MINIMAX_BASE_URL");
const provider = () => createMinimaxProvider({ apiKey: KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  feature: "style",
  model: "image-01",
  style: "watercolor",
  image: fakes().face,
  ...over,
});
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());
const answer = (...responses: FakeResponse[]) => fakes().api.on("POST", PATH, ...responses);
const ok = (data: object): FakeResponse => ({
  json: { id: "04e1", data, metadata: { success_count: "1", failed_count: "0" }, base_resp: { status_code: 0, status_msg: "success" } },
});
const businessError = (status_code: number): FakeResponse => ({
  json: { id: "04e1", data: null, base_resp: { status_code, status_msg: `provider text quoting the prompt: watercolour (${status_code})` } },
});

describe("minimax adapter", () => {
  test("sends the face as a character subject reference (data URL) with Bearer key, and returns the base64 image", async () => {
    answer(ok({ image_base64: [fakes().resultJpeg.toString("base64")] }));
    const image = await run();
    assert.equal(image.mime, "image/jpeg");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultJpeg));

    const calls = fakes().api.callsTo("POST", PATH);
    assert.equal(calls.length, 1);
    const { headers, json } = calls[0]!;
    assert.equal(headers.authorization, `Bearer ${KEY}`);
    assert.match(String(headers["content-type"]), /application\/json/);
    assert.equal(json.model, "image-01");
    assert.deepEqual(json.subject_reference, [
      { type: "character", image_file: `data:image/jpeg;base64,${Buffer.from(fakes().face.bytes).toString("base64")}` },
    ]);
    assert.match(json.prompt, /^A portrait of the person in the reference photo\./);
    assert.match(json.prompt, /watercolour/);
    assert.equal(json.aspect_ratio, "1:1");
    assert.equal(json.n, 1);
    assert.equal(json.response_format, "base64");
    assert.equal(json.prompt_optimizer, false);
  });

  test("the aspect ratio is the supported one nearest the photo's", () => {
    assert.equal(aspectRatioFor(4000, 3000, "image-01"), "4:3");
    assert.equal(aspectRatioFor(1080, 1920, "image-01"), "9:16");
    assert.equal(aspectRatioFor(3000, 2000, "image-01"), "3:2");
    assert.equal(aspectRatioFor(2520, 1080, "image-01"), "21:9");
    assert.equal(aspectRatioFor(2520, 1080, "image-01-live"), "16:9", "21:9 is image-01 only");
    assert.equal(aspectRatioFor(0, 0, "image-01"), "1:1");
  });

  test("serves style only: it regenerates the picture, so edit, enhance and cutout are not offered", () => {
    const { models } = provider();
    assert.deepEqual(models.defaults, { style: "image-01" });
    assert.deepEqual([...models.allowed], ["image-01", "image-01-live"]);
  });

  for (const [status, code, reason] of [
    [1026, "failed-precondition", "provider-policy-rejected"],
    [1027, "failed-precondition", "provider-policy-rejected"],
    [1008, "resource-exhausted", "provider-quota"],
    [1028, "resource-exhausted", "provider-quota"],
    [1002, "unavailable", "provider-unavailable"],
    [1000, "unavailable", "provider-unavailable"],
    [1024, "unavailable", "provider-unavailable"],
    [1004, "failed-precondition", "provider-rejected"],
    [2013, "failed-precondition", "provider-rejected"],
    [4242, "failed-precondition", "provider-rejected"],
  ] as const) {
    test(`base_resp.status_code ${status} with HTTP 200 ends as ${reason}, in our words, submitted once`, async () => {
      answer(businessError(status));
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /watercolour|provider text/);
      assert.equal(fakes().api.callsTo("POST", PATH).length, 1);
    });
  }

  test("success with the only image counted as failed is a policy rejection", async () => {
    answer({
      json: { id: "x", data: { image_base64: [] }, metadata: { success_count: "0", failed_count: "1" }, base_resp: { status_code: 0, status_msg: "success" } },
    });
    assert.equal((await failure(run())).reason, "provider-policy-rejected");
    fakes().api.reset();
    answer(ok({ image_urls: [] }));
    assert.equal((await failure(run())).reason, "provider-rejected", "no image and nothing filtered: the provider's fault, not retried");
  });

  test("429 and 5xx are never retried (the image may be generating and billed); Retry-After is passed on", async () => {
    const responses: FakeResponse[] = [
      { status: 429, headers: { "retry-after": "3" }, json: { base_resp: { status_code: 1002, status_msg: "rate limit" } } },
      { status: 500, body: "<html>internal</html>" },
      { status: 503, json: { error: { type: "overloaded_error", message: "busy" } } },
    ];
    await expectSubmitNotRetried(() => fakes().api, ["POST", PATH], run, responses, 3);
  });

  test("a non-2xx answer that names a MiniMax code is classified by the code", async () => {
    answer({ status: 422, json: { error: { type: "unprocessable_entity_error", message: "input new_sensitive", code: 1026, http_code: "422" } } });
    assert.equal((await failure(run())).reason, "provider-policy-rejected");
    fakes().api.reset();
    answer({ status: 402, json: { base_resp: { status_code: 1008, status_msg: "insufficient balance" } } });
    assert.equal((await failure(run())).code, "resource-exhausted");
    fakes().api.reset();
    answer({ status: 401, json: { error: { type: "authentication_error", message: "bad key" } } });
    assert.equal((await failure(run())).reason, "provider-rejected");
  });

  test("malformed JSON and a result that is not an image are provider faults", async () => {
    answer({ status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    answer({ json: { base_resp: { status_code: "zero" } } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    answer(ok({ image_base64: [Buffer.from("<html>not an image</html>").toString("base64")] }));
    assert.equal((await failure(run())).code, "unavailable");
  });

  test("a base64 result larger than the cap fails clearly", async () => {
    answer(ok({ image_base64: [Buffer.alloc(31_000_000, 1).toString("base64")] }));
    assert.equal((await failure(run())).reason, "provider-rejected");
  });

  test("a URL answer is downloaded at once without the key; expired, non-image and oversized results fail", async () => {
    const { cdn, resultJpeg } = fakes();
    const url = `${cdn.url}/minimax-image/result.jpeg?Expires=1&Signature=abc`;
    answer(ok({ image_urls: [url] }));
    cdn.on("GET", "/minimax-image/result.jpeg", { body: resultJpeg, headers: { "content-type": "image/jpeg" } });
    assert.ok(Buffer.from((await run()).bytes).equals(resultJpeg));
    await expectResultDownloadFailures(
      cdn,
      "/minimax-image/result.jpeg",
      "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
      run,
    );
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("a result URL on MiniMax's own API host is fetched with the key", async () => {
    const { api, resultJpeg } = fakes();
    answer(ok({ image_urls: [`${api.url}/v1/files/retrieve_content?file_id=1`] }));
    api.on("GET", "/v1/files/retrieve_content", { body: resultJpeg });
    await run();
    assert.equal(api.callsTo("GET", "/v1/files/retrieve_content")[0]!.headers.authorization, `Bearer ${KEY}`);
  });

  test("photos the API will not take are refused before anything is sent", async () => {
    answer(ok({ image_base64: [fakes().resultJpeg.toString("base64")] }));
    assert.equal((await failure(run({ image: { ...fakes().face, mime: "image/webp" } }))).reason, "provider-rejected");
    assert.equal((await failure(run({ image: { ...fakes().face, bytes: new Uint8Array(10_000_000) } }))).reason, "provider-rejected");
    assert.equal((await failure(run({ style: "no-such-style" }))).code, "invalid-argument");
    assert.equal(fakes().api.calls.length, 0);
  });

  test("a dropped connection is transient; a hanging provider is cut off at the deadline", async () => {
    await expectDropAndHang(() => fakes().api, ["POST", PATH], "minimax", run);
  });
});
