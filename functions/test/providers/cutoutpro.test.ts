/**
 * Cutout.Pro adapter against a wire-level fake of its documented API
 * (shared/providers/cutout-pro.md): the multipart upload per model, the inline base64 answer,
 * and every error class. Synchronous: nothing is polled and no result URL exists.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createCutoutProProvider } from "../../src/providers/cutoutpro/index.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { expectSubmitNotRetried, failure, withPollDeadline } from "../support/providerTest.js";
import type { FakeResponse } from "../support/fakeServer.js";
import type { ImageRequest } from "../../src/providers/types.js";

const KEY = `cutoutpro-test-${process.pid}-${Date.now()}`; // generated, never a real key
const fakes = useProviderFakes("CUTOUTPRO_BASE_URL");
const provider = () => createCutoutProProvider({ apiKey: KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ feature: "cutout", model: "cutout-general", image: fakes().face, ...over });
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());

const PATH = "/api/v1/matting2";
const ok = (bytes: Uint8Array) => ({ json: { code: 0, data: { imageBase64: Buffer.from(bytes).toString("base64") }, msg: null, time: 1 } });
const answer = (...responses: FakeResponse[]) => fakes().api.on("POST", PATH, ...responses);

describe("cutoutpro adapter", () => {
  test("uploads the photo as multipart `file` with APIKEY and returns the inline PNG cutout", async () => {
    answer(ok(fakes().resultPng));
    const image = await run();
    assert.equal(image.mime, "image/png");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultPng));

    const [call] = fakes().api.callsTo("POST", PATH);
    assert.equal(call!.headers.apikey, KEY);
    assert.equal(call!.query.get("mattingType"), "6");
    assert.deepEqual([...call!.query.keys()], ["mattingType"], "only documented query parameters (no crop: the photo keeps its framing)");
    const file = call!.form!.get("file") as File;
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(fakes().face.bytes)));
    assert.equal(file.name, "photo.jpg");
    assert.equal(file.type, "image/jpeg");
    assert.deepEqual([...call!.form!.keys()], ["file"]);
    assert.equal(fakes().cdn.calls.length, 0);
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("serves cutout and enhance only, with documented defaults; the model picks the mattingType", async () => {
    const { models } = provider();
    assert.deepEqual(models.defaults, { cutout: "cutout-general", enhance: "enhance-photo" });
    for (const [feature, model, mattingType, result] of [
      ["cutout", "cutout-portrait", "1", fakes().resultPng],
      ["cutout", "cutout-face", "3", fakes().resultPng],
      ["enhance", "enhance-photo", "18", fakes().resultJpeg],
      ["enhance", "colorize", "19", fakes().resultJpeg],
    ] as const) {
      fakes().api.reset();
      answer(ok(result));
      const image = await run({ feature, model });
      assert.equal(image.mime, feature === "cutout" ? "image/png" : "image/jpeg");
      const [call] = fakes().api.callsTo("POST", PATH);
      assert.equal(call!.query.get("mattingType"), mattingType, model);
      assert.deepEqual([...call!.query.keys()], ["mattingType"], "matting2 documents no output-format parameter");
    }
  });

  test("a model used for the wrong feature, a HEIC photo or an oversized one is refused before any upload", async () => {
    assert.equal((await failure(run({ feature: "enhance", model: "cutout-face" }))).code, "invalid-argument");
    assert.equal((await failure(run({ feature: "edit", model: "cutout-general", prompt: "x" }))).code, "invalid-argument");
    const heic = { ...fakes().face, mime: "image/heic" as const };
    assert.equal((await failure(run({ image: heic }))).reason, "provider-rejected");
    const big = { ...fakes().face, bytes: new Uint8Array(16 * 1024 * 1024) };
    assert.equal((await failure(run({ feature: "enhance", model: "enhance-photo", image: big }))).reason, "provider-rejected");
    assert.equal(fakes().api.calls.length, 0);
  });

  for (const [code, expected, reason] of [
    [1001, "resource-exhausted", "provider-quota"],
    [1002, "failed-precondition", "provider-rejected"],
    [1003, "failed-precondition", "provider-rejected"],
    [1005, "failed-precondition", "provider-rejected"],
    [4242, "failed-precondition", "provider-rejected"],
  ] as const) {
    test(`body code ${code} (HTTP 200) ends as ${expected}, with our message`, async () => {
      answer({ json: { code, data: null, msg: "secret provider text about the photo", time: 1 } });
      const error = await failure(run());
      assert.equal(error.code, expected);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /secret provider text/);
    });
  }

  test("HTTP 429 and 5xx on the upload are never retried (it may have been billed); Retry-After is passed on", async () => {
    const responses = [429, 500, 503].map((status) => ({ status, headers: { "retry-after": "4" }, json: { code: -1, msg: "busy" } }));
    await expectSubmitNotRetried(() => fakes().api, ["POST", PATH], run, responses, 4);
  });

  test("401 is permanent, 402 is quota", async () => {
    answer({ status: 401, json: { code: 1002 } });
    assert.equal((await failure(run())).reason, "provider-rejected");
    answer({ status: 402, json: {} });
    assert.equal((await failure(run())).code, "resource-exhausted");
  });

  test("malformed JSON, an unknown envelope or success without an image are provider faults", async () => {
    for (const response of [
      { body: "{not json", headers: { "content-type": "application/json" } },
      { json: { status: "ok" } },
      { json: { code: 0, data: null } },
      { json: { code: 0, data: { imageBase64: "" } } },
    ]) {
      answer(response);
      assert.equal((await failure(run())).code, "unavailable");
    }
  });

  test("a result that is not an image, a cutout without transparency, or one too large fails the job clearly", async () => {
    answer(ok(Buffer.from("<html>not an image</html>")));
    assert.equal((await failure(run())).code, "unavailable");
    answer(ok(fakes().resultJpeg));
    assert.equal((await failure(run())).code, "unavailable", "a JPEG cannot be a cutout");
    answer(ok(Buffer.alloc(31_000_000, 1)));
    const error = await failure(run());
    assert.equal(error.code, "failed-precondition");
    assert.match(error.message, /larger than we accept/);
  });

  test("a provider that hangs is cut off at the job's deadline", async () => {
    answer({ hang: true });
    assert.equal((await withPollDeadline("cutoutpro", 300, () => failure(run()))).code, "deadline-exceeded");
  });

  test("a dropped connection is a retryable network fault, and the upload is not repeated", async () => {
    answer({ drop: true });
    assert.equal((await failure(run())).code, "unavailable");
    assert.equal(fakes().api.callsTo("POST", PATH).length, 1);
  });
});
