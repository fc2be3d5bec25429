/**
 * OpenAI GPT Image adapter (through the official SDK) against a wire-level fake of
 * `POST /v1/images/edits` (shared/providers/openai-gpt-image.md): the multipart request, the
 * inline base64 result, and every error class. Sync provider: no polling, no result URL.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageModel } from "openai/resources/images";
import { createOpenAIProvider } from "../../src/providers/openai/index.js";
import { OPENAI_MODELS } from "../../src/providers/openai/api.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { expectUnusableResultsFail, failure } from "../support/providerTest.js";
import type { ImageRequest } from "../../src/providers/types.js";

const KEY = `sk-openai-test-${process.pid}-${Date.now()}`; // generated, never a real key
const EDITS = "/images/edits";
const fakes = useProviderFakes("OPENAI_BASE_URL");
const provider = (over: { timeoutMs?: number; now?: () => Date } = {}) => createOpenAIProvider({ apiKey: KEY, ...over });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  feature: "style",
  model: "gpt-image-2.5-sunburst",
  style: "noir",
  image: fakes().face,
  ...over,
});
const run = (over: Partial<ImageRequest> = {}, p = provider()) => runImageProvider(p, request(over), settings());
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const edited = (bytes: Uint8Array, output_format = "jpeg") => ({ json: { created: 1767225600, output_format, data: [{ b64_json: b64(bytes) }] } });
const apiError = (status: number, code: string | null, type = "invalid_request_error", headers: Record<string, string> = {}) => ({
  status,
  headers: { "x-request-id": "req_test", ...headers },
  json: { error: { message: "Your request was rejected by the safety system. safety_violations=[...]", type, param: null, code } },
});
const calls = () => fakes().api.callsTo("POST", EDITS);

describe("openai adapter", () => {
  test("sends the photo as a multipart file with the instruction and Bearer key; returns the inline image", async () => {
    fakes().api.on("POST", EDITS, edited(fakes().resultJpeg));
    const image = await run();
    assert.equal(image.mime, "image/jpeg");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultJpeg));

    assert.equal(calls().length, 1);
    const [call] = calls();
    assert.equal(call!.headers.authorization, `Bearer ${KEY}`);
    assert.match(String(call!.headers["content-type"]), /^multipart\/form-data; boundary=/);
    const form = call!.form!;
    const file = form.get("image");
    assert.ok(file instanceof File, "the photo travels as a file part named image");
    assert.equal(file.type, "image/jpeg");
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(fakes().face.bytes)));
    assert.equal(form.get("model"), "gpt-image-2.5-sunburst");
    assert.match(String(form.get("prompt")), /film noir/);
    assert.match(String(form.get("prompt")), /Keep the person's face/);
    assert.equal(form.get("output_format"), "jpeg");
    assert.equal(form.get("quality"), "high");
    assert.equal(form.get("n"), "1");
    assert.equal(form.get("input_fidelity"), null, "gpt-image-2.x always uses high fidelity and rejects the parameter");
    assert.equal(form.get("background"), null);
    assert.equal(fakes().cdn.calls.length, 0, "inline result: nothing is downloaded");
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("gpt-image-2.6 edits get no input_fidelity; the edit prompt is the user's; enhance has its own instruction", async () => {
    fakes().api.on("POST", EDITS, edited(fakes().resultJpeg));
    await run({ feature: "edit", model: "gpt-image-2.6-sunburst", prompt: "give me a red scarf", style: undefined });
    assert.equal(calls()[0]!.form!.get("model"), "gpt-image-2.6-sunburst");
    assert.equal(calls()[0]!.form!.get("input_fidelity"), null, "the SDK says to omit it from gpt-image-2 on");
    assert.match(String(calls()[0]!.form!.get("prompt")), /^give me a red scarf/);
    await run({ feature: "enhance", style: undefined });
    assert.match(String(calls()[1]!.form!.get("prompt")), /^Restore and enhance/);
  });

  test("cutout asks for a transparent PNG; a model without documented transparency is refused before any call", async () => {
    fakes().api.on("POST", EDITS, edited(fakes().resultPng, "png"));
    const image = await run({ feature: "cutout", style: undefined });
    assert.equal(image.mime, "image/png");
    const form = calls()[0]!.form!;
    assert.equal(form.get("background"), "transparent");
    assert.equal(form.get("output_format"), "png");
    assert.match(String(form.get("prompt")), /transparent background/);

    const error = await failure(run({ feature: "cutout", model: "gpt-image-2.6-sunburst", style: undefined }));
    assert.equal(error.code, "invalid-argument");
    assert.equal(calls().length, 1);
  });

  test("models: the current best GPT Image model by default for every feature; shut-down models are not accepted; the 2.6 replacements are", () => {
    const { models } = provider();
    assert.deepEqual(models.defaults, {
      edit: "gpt-image-2.5-sunburst",
      style: "gpt-image-2.5-sunburst",
      enhance: "gpt-image-2.5-sunburst",
      cutout: "gpt-image-2.5-sunburst",
    });
    for (const retired of ["gpt-image-1", "gpt-image-1.5", "gpt-image-1.5-mini", "chatgpt-image-latest"]) assert.ok(!models.allowed.includes(retired), retired);
    for (const replacement of ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare"]) assert.ok(models.allowed.includes(replacement), replacement);
    // Every id we send is one the SDK (openai 7.59.0) names.
    const named: readonly ImageModel[] = OPENAI_MODELS;
    assert.equal(named.length, models.allowed.length);
  });

  test("a model OpenAI shut down (gpt-image-1.5 and chatgpt-image-latest, 2026-12-01) is refused before any upload, naming the 2.6 replacement", async () => {
    fakes().api.on("POST", EDITS, edited(fakes().resultJpeg));
    const onShutdownDay = provider({ now: () => new Date("2026-12-01T00:00:00Z") });
    for (const model of ["gpt-image-1.5", "chatgpt-image-latest"]) {
      const error = await failure(run({ model }, onShutdownDay));
      assert.equal(error.code, "invalid-argument");
      assert.equal(error.reason, "model-retired");
      assert.match(error.message, /shut down by OpenAI GPT Image on 2026-12-01; use gpt-image-2\.6-sunburst/);
    }
    assert.equal(calls().length, 0);
    await run({ model: "gpt-image-2.6-sunburst" }, onShutdownDay);
    assert.equal(calls().length, 1);
  });

  test("a HEIC photo is refused before upload (the API takes JPEG, PNG, WebP)", async () => {
    const error = await failure(run({ image: { ...fakes().face, mime: "image/heic" } }));
    assert.equal(error.code, "failed-precondition");
    assert.equal(calls().length, 0);
  });

  test("moderation_blocked (HTTP 400) is a policy rejection with our message, not OpenAI's", async () => {
    fakes().api.on("POST", EDITS, apiError(400, "moderation_blocked", "image_generation_user_error"));
    const error = await failure(run());
    assert.equal(error.code, "failed-precondition");
    assert.equal(error.reason, "provider-policy-rejected");
    assert.doesNotMatch(error.message, /safety system|safety_violations/);
  });

  test("insufficient_quota (HTTP 429) and billing limits are quota errors, not retried", async () => {
    for (const [status, code] of [
      [429, "insufficient_quota"],
      [400, "billing_hard_limit_reached"],
    ] as const) {
      fakes().api.reset();
      fakes().api.on("POST", EDITS, apiError(status, code, "insufficient_quota"));
      const error = await failure(run());
      assert.equal(error.code, "resource-exhausted");
      assert.equal(calls().length, 1);
    }
  });

  test("429 rate limits and 5xx are unavailable, pass Retry-After on, and are never resent (the edit may have run)", async () => {
    for (const [status, headers, seconds] of [
      [429, { "retry-after": "3" }, 3],
      [429, { "retry-after-ms": "1500" }, 2],
      [500, {}, undefined],
      [503, { "x-should-retry": "true" }, undefined],
    ] as const) {
      fakes().api.reset();
      fakes().api.on("POST", EDITS, apiError(status, status === 429 ? "rate_limit_exceeded" : null, "server_error", headers));
      const error = await failure(run());
      assert.equal(error.code, "unavailable");
      assert.equal(error.details?.retryAfterSeconds, seconds);
      assert.equal(calls().length, 1, `HTTP ${status} must not be retried`);
    }
  });

  test("401 and other 4xx are permanent", async () => {
    for (const status of [401, 400, 404]) {
      fakes().api.reset();
      fakes().api.on("POST", EDITS, apiError(status, status === 401 ? "invalid_api_key" : "invalid_value"));
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-rejected");
    }
  });

  test("malformed JSON is a provider fault; a body without an image is a clear permanent failure", async () => {
    fakes().api.on("POST", EDITS, { status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    for (const json of [{ created: 1, data: [] }, { created: 1, data: [{ url: "https://example.invalid/x.png" }] }, { created: 1 }]) {
      fakes().api.on("POST", EDITS, { json });
      const error = await failure(run());
      assert.equal(error.code, "failed-precondition");
      assert.equal(error.reason, "provider-rejected");
    }
  });

  test("a result that is not an image, or too large, fails the job clearly", async () => {
    await expectUnusableResultsFail(
      (bytes) => fakes().api.on("POST", EDITS, edited(bytes)),
      () => run(),
    );
  });

  test("the SDK's own timeout and a dropped connection are unavailable, sent once", async () => {
    fakes().api.on("POST", EDITS, { delayMs: 2_000, ...edited(fakes().resultJpeg) });
    assert.equal((await failure(run({}, provider({ timeoutMs: 100 })))).code, "unavailable");
    assert.equal(calls().length, 1);
    fakes().api.reset();
    fakes().api.on("POST", EDITS, { drop: true });
    assert.equal((await failure(run())).code, "unavailable");
    assert.equal(calls().length, 1);
  });

  test("a provider that hangs is cut off at the job's deadline", async () => {
    fakes().api.on("POST", EDITS, { hang: true });
    process.env.OPENAI_POLL_DEADLINE_MS = "200";
    try {
      assert.equal((await failure(run())).code, "deadline-exceeded");
    } finally {
      delete process.env.OPENAI_POLL_DEADLINE_MS;
    }
  });
});
