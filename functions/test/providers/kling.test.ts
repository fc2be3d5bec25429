/**
 * Kling AI adapter against a wire-level fake of its documented API (shared/providers/kling-image.md):
 * the JWT, request shape, the submit → poll protocol, result download, and every error class.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { before, describe, mock, test } from "node:test";
import { createKlingProvider } from "../../src/providers/kling/index.js";
import { nearestAspectRatio } from "../../src/providers/kling/api.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent, type FakeResponse, type Handler, type RecordedCall } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { failure, withPollDeadline } from "../support/providerTest.js";
import { makeFaceImage } from "../fixtures/images.js";
import type { ImageRequest, InputImage } from "../../src/providers/types.js";

const ACCESS_KEY = `ak-kling-test-${process.pid}-${Date.now()}`; // generated, never real keys
const SECRET_KEY = `sk-kling-test-${Math.random().toString(36).slice(2)}`;
const SUBMIT = "/v1/images/generations";
const TASK = "/v1/images/generations/task-1";
const fakes = useProviderFakes("KLING_BASE_URL");
let face: InputImage; // 400×300 (4:3): the shared 256 px face is under Kling's 300 px minimum
before(async () => {
  face = { bytes: await makeFaceImage({ width: 400, height: 300, format: "jpeg" }), mime: "image/jpeg", width: 400, height: 300 };
});

const provider = () => createKlingProvider({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ feature: "style", model: "kling-v1-5", style: "watercolor", image: face, ...over });
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());
const envelope = (data: object | null, code = 0) => ({ code, message: code ? "error text quoting the prompt" : "SUCCEED", request_id: "req-1", data });
const task = (task_status: string, extra: object = {}) =>
  envelope({ task_id: "task-1", task_status, task_status_msg: "", created_at: 1, updated_at: 2, ...extra });
const succeeded = () => task("succeed", { task_result: { images: [{ index: 0, url: `${fakes().cdn.url}/raw_image_0.png` }] } });

/** A poll script entry: a task body, or a scripted response (`status`/`json`) or handler as is. */
const asResponse = (p: object | Handler): FakeResponse | Handler =>
  typeof p === "function" ? (p as Handler) : "status" in p || "json" in p ? (p as FakeResponse) : { json: p };

function scriptTask(polls: (object | Handler)[], submit: object = { json: task("submitted", { task_info: { external_task_id: "x" } }) }) {
  const { api, cdn, resultPng } = fakes();
  api.on("POST", SUBMIT, submit);
  if (polls.length) api.on("GET", TASK, ...polls.map(asResponse));
  cdn.on("GET", "/raw_image_0.png", { body: resultPng, headers: { "content-type": "image/png" } });
}

/** Verifies a Bearer JWT with the secret key and returns its claims. */
function claimsOf(call: RecordedCall): { iss: string; exp: number; nbf: number } {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(String(call.headers.authorization));
  assert.ok(match, "Authorization: Bearer <jwt>");
  const [, header, payload, signature] = match;
  const expected = createHmac("sha256", SECRET_KEY).update(`${header}.${payload}`).digest("base64url");
  assert.equal(signature, expected, "HS256 signature with the secret key");
  assert.deepEqual(JSON.parse(Buffer.from(header!, "base64url").toString()), { alg: "HS256", typ: "JWT" });
  return JSON.parse(Buffer.from(payload!, "base64url").toString());
}

describe("kling adapter", () => {
  test("signs a JWT, submits raw base64 with subject reference, polls, and downloads the result", async () => {
    scriptTask([task("submitted"), task("processing"), succeeded()]);
    const image = await run();
    assert.equal(image.mime, "image/png");
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultPng));

    const [submit] = fakes().api.callsTo("POST", SUBMIT);
    const claims = claimsOf(submit!);
    const now = Math.floor(Date.now() / 1000);
    assert.equal(claims.iss, ACCESS_KEY);
    assert.ok(claims.exp > now + 1700 && claims.exp <= now + 1800, "exp: now + 30 min");
    assert.ok(claims.nbf <= now - 4 && claims.nbf >= now - 10, "nbf: now - 5 s");
    assert.deepEqual(Object.keys(claims).sort(), ["exp", "iss", "nbf"]);

    const body = submit!.json;
    assert.equal(body.image, Buffer.from(face.bytes).toString("base64"), "raw base64, no data: prefix");
    assert.equal(body.model_name, "kling-v1-5");
    assert.equal(body.image_reference, "subject");
    assert.equal(body.human_fidelity, 0.9);
    assert.equal(body.aspect_ratio, "4:3");
    assert.equal(body.n, 1);
    assert.match(body.external_task_id, /^[0-9a-f-]{36}$/);
    assert.match(body.prompt, /watercolour/);
    assert.match(body.prompt, /Keep the person's face/);
    assert.equal(body.negative_prompt, undefined);
    assert.equal(body.model, undefined, "model_name, not the legacy field (which means v1)");

    const polls = fakes().api.callsTo("GET", TASK);
    assert.equal(polls.length, 3);
    for (const poll of polls) assert.equal(claimsOf(poll).iss, ACCESS_KEY);
    const tokens = [submit!, ...polls].map((c) => String(c.headers.authorization).slice(7));
    assertNoCredentialSent(fakes().cdn, [ACCESS_KEY, SECRET_KEY, ...tokens]);
  });

  test("external_task_id is the job's id (Kling's idempotency key); without one each submit gets its own", async () => {
    scriptTask([succeeded()]);
    await run({ jobId: "a".repeat(40) });
    await run();
    await run();
    const [fromJob, a, b] = fakes()
      .api.callsTo("POST", SUBMIT)
      .map((c) => c.json.external_task_id);
    assert.equal(fromJob, "a".repeat(40));
    assert.notEqual(a, b);
  });

  test("options.imageReference=face sends face reference without human_fidelity; other values are refused", async () => {
    scriptTask([succeeded()]);
    await run({ options: { imageReference: "face" } });
    const body = fakes().api.calls[0]!.json;
    assert.equal(body.image_reference, "face");
    assert.equal(body.human_fidelity, undefined);
    const error = await failure(run({ options: { imageReference: "body" } }));
    assert.equal(error.code, "invalid-argument");
  });

  test("only style is offered, with kling-v1-5", () => {
    assert.deepEqual(provider().models.defaults, { style: "kling-v1-5" });
    assert.deepEqual(provider().models.allowed, ["kling-v1-5"]);
  });

  test("the aspect ratio sent is the supported one nearest the photo's", () => {
    assert.equal(nearestAspectRatio(1000, 1000), "1:1");
    assert.equal(nearestAspectRatio(3024, 4032), "3:4");
    assert.equal(nearestAspectRatio(1920, 1080), "16:9");
    assert.equal(nearestAspectRatio(1080, 1920), "9:16");
    assert.equal(nearestAspectRatio(6000, 4000), "3:2");
    assert.equal(nearestAspectRatio(2500, 1000), "21:9");
  });

  for (const [name, poll, code, reason] of [
    [
      "failed with a content-policy reason",
      task("failed", { task_status_msg: "Failure to pass the risk control system" }),
      "failed-precondition",
      "provider-policy-rejected",
    ],
    ["failed for another reason", task("failed", { task_status_msg: "No face detected in the image" }), "failed-precondition", "provider-rejected"],
    ["succeed without images", task("succeed", { task_result: { images: [] } }), "failed-precondition", "provider-rejected"],
    ["with an unknown status", task("succeeded"), "failed-precondition", "provider-rejected"],
    ["with service code 1301 (HTTP 200)", envelope(null, 1301), "failed-precondition", "provider-policy-rejected"],
  ] as const) {
    test(`a task ${name} ends as ${code}`, async () => {
      scriptTask([task("processing"), poll]);
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /risk|face detected|quoting|task-1/, "our message, not the provider's text");
    });
  }

  for (const [status, serviceCode, code, reason] of [
    [429, 1101, "resource-exhausted", "provider-quota"],
    [429, 1102, "resource-exhausted", "provider-quota"],
    [400, 1301, "failed-precondition", "provider-policy-rejected"],
    [400, 1300, "failed-precondition", "provider-policy-rejected"],
    [429, 1302, "unavailable", "provider-unavailable"],
    [429, 1100, "failed-precondition", "provider-rejected"],
    [429, 1304, "failed-precondition", "provider-rejected"],
    [401, 1002, "failed-precondition", "provider-rejected"],
    [401, 1004, "unavailable", "provider-unavailable"],
    [400, 1201, "failed-precondition", "provider-rejected"],
    [500, 5000, "unavailable", "provider-unavailable"],
    [503, 5001, "unavailable", "provider-unavailable"],
    [200, 1102, "resource-exhausted", "provider-quota"],
  ] as const) {
    test(`submit answered HTTP ${status} code ${serviceCode} ends as ${code} and is not retried`, async () => {
      scriptTask([], { status, json: envelope(null, serviceCode) });
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /quoting/);
      assert.equal(fakes().api.callsTo("POST", SUBMIT).length, 1);
    });
  }

  test("429 code 1303 (concurrency) on submit: unavailable with Retry-After passed on, never retried", async () => {
    scriptTask([], { status: 429, headers: { "retry-after": "4" }, json: { code: 1303, message: "parallel task over resource pack limit", request_id: "r" } });
    const error = await failure(run());
    assert.equal(error.code, "unavailable");
    assert.equal(error.details?.retryAfterSeconds, 4);
    assert.equal(fakes().api.callsTo("POST", SUBMIT).length, 1);
  });

  test("a poll refused with an expired token (1004) is re-signed and retried once", async () => {
    const t0 = Date.now();
    mock.timers.enable({ apis: ["Date"], now: t0 });
    try {
      scriptTask([() => (mock.timers.setTime(t0 + 60_000), { status: 401, json: envelope(null, 1004) }), { json: succeeded() }]);
      const image = await run();
      assert.equal(image.mime, "image/png");
    } finally {
      mock.timers.reset();
    }
    const [first, second] = fakes().api.callsTo("GET", TASK).map(claimsOf);
    assert.ok(second!.exp - first!.exp >= 60, "the retry carries a newly signed token");
  });

  test("a token refused twice (1003, then 1004) ends as unavailable after one retry", async () => {
    scriptTask([
      { status: 401, json: envelope(null, 1003) },
      { status: 401, json: envelope(null, 1004) },
    ]);
    const error = await failure(run());
    assert.equal(error.code, "unavailable");
    assert.equal(fakes().api.callsTo("GET", TASK).length, 2);
  });

  test("a poll that fails with 5xx or 429 is retried (polls are idempotent), honouring Retry-After", async () => {
    scriptTask([
      { status: 500, json: envelope(null, 5000) },
      { status: 429, headers: { "retry-after-ms": "20" }, json: envelope(null, 1302) },
      { json: succeeded() },
    ]);
    const image = await run();
    assert.equal(image.mime, "image/png");
    assert.equal(fakes().api.callsTo("GET", TASK).length, 3);
  });

  test("malformed JSON, or code 0 without a task, is a provider fault", async () => {
    scriptTask([], { status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    scriptTask([], { json: envelope(null) });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    scriptTask([envelope({ task_id: "task-1" })]); // no task_status
    assert.equal((await failure(run())).code, "unavailable");
  });

  test("a result URL that has expired, is not an image, or is too large fails the job clearly", async () => {
    scriptTask([succeeded()]);
    for (const [response, code, reason] of [
      [{ status: 404, body: "Not Found" }, "failed-precondition", "provider-rejected"],
      [{ status: 200, body: "<html>not an image</html>" }, "unavailable", "provider-unavailable"],
      [{ status: 200, body: Buffer.alloc(31_000_000, 1) }, "failed-precondition", "provider-rejected"],
    ] as const) {
      fakes().cdn.on("GET", "/raw_image_0.png", response);
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
    }
    assertNoCredentialSent(fakes().cdn, [ACCESS_KEY, SECRET_KEY, "Bearer"]);
  });

  test("a task that never finishes ends with deadline-exceeded at the provider's deadline", async () => {
    scriptTask([task("processing")]);
    const error = await withPollDeadline("kling", 150, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
    assert.equal(provider().cancel, undefined, "Kling documents no cancel");
  });

  test("a provider that hangs is cut off by the deadline", async () => {
    fakes().api.on("POST", SUBMIT, { hang: true });
    const error = await withPollDeadline("kling", 300, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
  });

  test("photos Kling cannot take and over-long prompts are refused before anything is sent", async () => {
    for (const image of [
      { ...face, mime: "image/webp" as const },
      { ...face, mime: "image/heic" as const },
      { ...face, width: 256, height: 256 },
      { ...face, width: 3000, height: 1000 },
      { ...face, bytes: new Uint8Array(10 * 1024 * 1024 + 1) },
    ]) {
      const error = await failure(run({ image }));
      assert.equal(error.code, "invalid-argument");
      assert.equal(error.reason, "image-unsupported-by-provider");
    }
    const error = await failure(run({ feature: "edit", prompt: "x".repeat(2490), style: undefined }));
    assert.equal(error.reason, "prompt-too-long");
    assert.equal(fakes().api.calls.length, 0);
  });
});
