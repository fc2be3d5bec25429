/**
 * Black Forest Labs adapter against a wire-level fake of its documented API
 * (shared/providers/bfl-kontext.md): request shape, the submit → poll protocol, result download,
 * and every error class.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createBflProvider } from "../../src/providers/bfl/index.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { failure, withPollDeadline } from "../support/providerTest.js";
import type { ImageRequest } from "../../src/providers/types.js";

const KEY = `bfl-test-${process.pid}-${Date.now()}`; // generated, never a real key
const fakes = useProviderFakes("BFL_BASE_URL");
const provider = () => createBflProvider({ apiKey: KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ feature: "style", model: "flux-2-pro", style: "noir", image: fakes().face, ...over });
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());

/** Scripts a task: submit answers a polling URL on the API fake; polls answer `statuses` in turn. */
function scriptTask(statuses: object[], submit: object = {}) {
  const { api, cdn, resultJpeg } = fakes();
  api.on("POST", "/v1/flux-2-pro", Object.keys(submit).length ? submit : { json: { id: "task-1", polling_url: `${api.url}/v1/get_result?id=task-1` } });
  if (statuses.length) api.on("GET", "/v1/get_result", ...statuses.map((json) => ({ json })));
  cdn.on("GET", "/sample.jpg", { body: resultJpeg, headers: { "content-type": "image/jpeg" } });
}
const sampleUrl = () => `${fakes().cdn.url}/sample.jpg`;

describe("bfl adapter", () => {
  test("submits the photo as base64 with the instruction and x-key, polls, and downloads the result", async () => {
    scriptTask([{ status: "Pending", progress: 0.2 }, { status: "Pending" }, { status: "Ready", result: { sample: sampleUrl() } }]);
    const image = await run();
    assert.equal(image.mime, "image/jpeg");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultJpeg));

    const [submit] = fakes().api.callsTo("POST", "/v1/flux-2-pro");
    assert.equal(submit!.headers["x-key"], KEY);
    assert.equal(submit!.json.input_image, Buffer.from(fakes().face.bytes).toString("base64"), "raw base64, no data: prefix");
    assert.match(submit!.json.prompt, /film noir/);
    assert.match(submit!.json.prompt, /Keep the person's face/);
    assert.equal(submit!.json.output_format, "jpeg");
    const polls = fakes().api.callsTo("GET", "/v1/get_result");
    assert.equal(polls.length, 3);
    assert.ok(polls.every((p) => p.headers["x-key"] === KEY && p.query.get("id") === "task-1"));
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("the edit prompt is the user's; enhance has its own instruction; cutout is not offered", async () => {
    scriptTask([{ status: "Ready", result: { sample: sampleUrl() } }]);
    await run({ feature: "edit", prompt: "give me a red scarf", style: undefined });
    assert.match(fakes().api.calls[0]!.json.prompt, /^give me a red scarf/);
    assert.equal(provider().models.defaults.cutout, undefined);
  });

  for (const [status, code, reason] of [
    ["Request Moderated", "failed-precondition", "provider-policy-rejected"],
    ["Content Moderated", "failed-precondition", "provider-policy-rejected"],
    ["Error", "unavailable", "provider-unavailable"],
    ["Failed", "unavailable", "provider-unavailable"],
    ["Task not found", "failed-precondition", "provider-rejected"],
    ["Something New", "failed-precondition", "provider-rejected"],
  ] as const) {
    test(`poll status "${status}" (HTTP 200) ends as ${code}`, async () => {
      scriptTask([{ status: "Pending" }, { status, result: null }]);
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /Moderated|task-1/, "our message, not the provider's text");
    });
  }

  test("402 on submit is a quota error and is not retried", async () => {
    scriptTask([], { status: 402, json: { detail: "Insufficient credits" } });
    const error = await failure(run());
    assert.equal(error.code, "resource-exhausted");
    assert.equal(fakes().api.callsTo("POST", "/v1/flux-2-pro").length, 1);
  });

  test("429 and 5xx on submit are never blindly retried (the task may have started)", async () => {
    for (const status of [429, 500, 503]) {
      fakes().api.reset();
      scriptTask([], { status, headers: { "retry-after": "3" }, json: { error: "rate_limit_exceeded" } });
      const error = await failure(run());
      assert.equal(error.code, "unavailable");
      if (status === 429) assert.equal(error.details?.retryAfterSeconds, 3, "Retry-After is passed on to the client");
      assert.equal(fakes().api.callsTo("POST", "/v1/flux-2-pro").length, 1);
    }
  });

  test("a poll that fails with 5xx or 429 is retried (polls are idempotent), honouring Retry-After", async () => {
    const { api, cdn, resultJpeg } = fakes();
    api.on("POST", "/v1/flux-2-pro", { json: { id: "t", polling_url: `${api.url}/v1/get_result?id=t` } });
    api.on(
      "GET",
      "/v1/get_result",
      { status: 503 },
      { status: 429, headers: { "retry-after-ms": "20" } },
      { json: { status: "Ready", result: { sample: `${cdn.url}/s.jpg` } } },
    );
    cdn.on("GET", "/s.jpg", { body: resultJpeg });
    const image = await run();
    assert.equal(image.width, 320);
    assert.equal(api.callsTo("GET", "/v1/get_result").length, 3);
  });

  test("422 and 401 are permanent; malformed JSON is a provider fault", async () => {
    scriptTask([], { status: 422, json: { detail: [{ loc: ["body", "prompt"], msg: "field required" }] } });
    assert.equal((await failure(run())).code, "failed-precondition");
    fakes().api.reset();
    scriptTask([], { status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    scriptTask([], { status: 200, json: { id: "x" } }); // no polling_url
    assert.equal((await failure(run())).code, "unavailable");
  });

  test("a polling URL on a foreign host is refused and gets no key", async () => {
    const { api, cdn } = fakes();
    api.on("POST", "/v1/flux-2-pro", { json: { id: "t", polling_url: `${cdn.url}/v1/get_result?id=t` } });
    const error = await failure(run());
    assert.equal(error.code, "failed-precondition");
    assertNoCredentialSent(cdn, [KEY]);
  });

  test("a result URL that has expired, is not an image, or is too large fails the job clearly", async () => {
    scriptTask([]);
    const sample = sampleUrl();
    for (const [response, code] of [
      [{ status: 403, body: "<Error>AccessDenied: Request has expired</Error>" }, "failed-precondition"],
      [{ status: 200, body: "<html>not an image</html>" }, "unavailable"],
      [{ status: 200, body: Buffer.alloc(31_000_000, 1) }, "failed-precondition"],
    ] as const) {
      fakes().api.on("GET", "/v1/get_result", { json: { status: "Ready", result: { sample } } });
      fakes().cdn.on("GET", "/sample.jpg", response);
      assert.equal((await failure(run())).code, code);
    }
  });

  test("a task that never finishes ends with deadline-exceeded at the provider's deadline", async () => {
    scriptTask([{ status: "Pending" }]);
    const error = await withPollDeadline("bfl", 150, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
  });

  test("a provider that hangs is cut off by the timeout", async () => {
    fakes().api.on("POST", "/v1/flux-2-pro", { hang: true });
    const error = await withPollDeadline("bfl", 300, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
  });
});
