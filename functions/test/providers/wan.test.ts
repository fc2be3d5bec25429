/**
 * Alibaba Wan (DashScope) adapter against a wire-level fake of its documented API
 * (shared/providers/alibaba-wan-image.md): request shape, the submit → poll protocol, cancel at the
 * deadline, result download, and every error class.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { createWanProvider, WAN_HOSTS } from "../../src/providers/wan/index.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { failure, withPollDeadline } from "../support/providerTest.js";
import { makeFaceImage } from "../fixtures/images.js";
import type { ImageRequest, InputImage } from "../../src/providers/types.js";

const KEY = `sk-wan-test-${process.pid}-${Date.now()}`; // generated, never a real key
const SUBMIT = "/api/v1/services/aigc/image2image/image-synthesis";
const TASK = "/api/v1/tasks/task-1";
const fakes = useProviderFakes("WAN_BASE_URL");
let face: InputImage; // Wan needs ≥ 384 px per side: the shared 256 px face is too small
before(async () => {
  face = { bytes: await makeFaceImage({ width: 512, height: 512, format: "jpeg" }), mime: "image/jpeg", width: 512, height: 512 };
});

const provider = () => createWanProvider({ apiKey: KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ feature: "style", model: "wan2.5-i2i-preview", style: "noir", image: face, ...over });
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());
const task = (task_status: string, extra: object = {}) => ({ request_id: "r", output: { task_id: "task-1", task_status, ...extra } });
const resultUrl = () => `${fakes().cdn.url}/result.png?Expires=1`;
const succeeded = () =>
  task("SUCCEEDED", { results: [{ url: resultUrl(), orig_prompt: "p", actual_prompt: "p" }], task_metrics: { TOTAL: 1, SUCCEEDED: 1, FAILED: 0 } });

/** Scripts a task: submit answers PENDING task-1; polls answer `polls` in turn (the last repeats). */
function scriptTask(polls: object[], submit: object = { json: task("PENDING") }) {
  const { api, cdn, resultPng } = fakes();
  api.on("POST", SUBMIT, submit);
  if (polls.length) api.on("GET", TASK, ...polls.map((json) => ({ json })));
  cdn.on("GET", "/result.png", { body: resultPng, headers: { "content-type": "image/png" } });
}

describe("wan adapter", () => {
  test("submits the photo as a data URI with Bearer and X-DashScope-Async, polls the task, and downloads the result", async () => {
    scriptTask([task("PENDING"), task("RUNNING"), task("SUSPENDED"), succeeded()]);
    const image = await run();
    assert.equal(image.mime, "image/png");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultPng));

    const [submit] = fakes().api.callsTo("POST", SUBMIT);
    assert.equal(submit!.headers.authorization, `Bearer ${KEY}`);
    assert.equal(submit!.headers["x-dashscope-async"], "enable");
    assert.equal(submit!.json.model, "wan2.5-i2i-preview");
    assert.deepEqual(submit!.json.input.images, [`data:image/jpeg;base64,${Buffer.from(face.bytes).toString("base64")}`]);
    assert.match(submit!.json.input.prompt, /film noir/);
    assert.match(submit!.json.input.prompt, /Keep the person's face/);
    assert.deepEqual(submit!.json.parameters, { n: 1, prompt_extend: false, watermark: false });

    const polls = fakes().api.callsTo("GET", TASK);
    assert.equal(polls.length, 4, "PENDING, RUNNING and SUSPENDED are all still running");
    assert.ok(polls.every((p) => p.headers.authorization === `Bearer ${KEY}`));
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("edit sends the user's prompt; style and edit are offered, enhance and cutout are not", async () => {
    scriptTask([succeeded()]);
    await run({ feature: "edit", prompt: "give me a red scarf", style: undefined });
    assert.match(fakes().api.calls[0]!.json.input.prompt, /^give me a red scarf/);
    const { defaults, allowed } = provider().models;
    assert.deepEqual(defaults, { edit: "wan2.5-i2i-preview", style: "wan2.5-i2i-preview" });
    assert.deepEqual(allowed, ["wan2.5-i2i-preview"]);
  });

  test("defaults to the international (Singapore) host; WAN_BASE_URL selects another region", async () => {
    const seen: string[] = [];
    const recording: typeof fetch = async (input) => {
      seen.push(String(input));
      return Response.json(task("PENDING"));
    };
    const saved = process.env.WAN_BASE_URL;
    try {
      delete process.env.WAN_BASE_URL;
      await createWanProvider({ apiKey: KEY, fetch: recording }).submit(request());
      process.env.WAN_BASE_URL = WAN_HOSTS.china;
      await createWanProvider({ apiKey: KEY, fetch: recording }).submit(request());
    } finally {
      process.env.WAN_BASE_URL = saved;
    }
    assert.deepEqual(seen, [`https://dashscope-intl.aliyuncs.com${SUBMIT}`, `https://dashscope.aliyuncs.com${SUBMIT}`]);
  });

  for (const [name, poll, code, reason] of [
    [
      "FAILED with DataInspectionFailed",
      task("FAILED", { code: "DataInspectionFailed", message: "Input data may contain inappropriate content." }),
      "failed-precondition",
      "provider-policy-rejected",
    ],
    [
      "SUCCEEDED whose only image was moderated",
      task("SUCCEEDED", { results: [{ code: "DataInspectionFailed", message: "Output data may contain inappropriate content." }] }),
      "failed-precondition",
      "provider-policy-rejected",
    ],
    ["FAILED with InternalError.Algo", task("FAILED", { code: "InternalError.Algo", message: "x" }), "unavailable", "provider-unavailable"],
    ["FAILED with Arrearage", task("FAILED", { code: "Arrearage", message: "x" }), "resource-exhausted", "provider-quota"],
    ["FAILED with InvalidParameter", task("FAILED", { code: "InvalidParameter", message: "x" }), "failed-precondition", "provider-rejected"],
    ["FAILED without a code", task("FAILED"), "failed-precondition", "provider-rejected"],
    ["CANCELED", task("CANCELED"), "failed-precondition", "provider-rejected"],
    ["UNKNOWN (expired task id)", task("UNKNOWN"), "failed-precondition", "provider-rejected"],
    ["an unknown status", task("EXPLODED"), "failed-precondition", "provider-rejected"],
  ] as const) {
    test(`a task ${name} (HTTP 200) ends as ${code}`, async () => {
      scriptTask([task("RUNNING"), poll]);
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /inappropriate|task-1|DataInspection/, "our message, not the provider's text");
    });
  }

  for (const [status, body, code, reason] of [
    [400, { code: "DataInspectionFailed", message: "Input data may contain inappropriate content." }, "failed-precondition", "provider-policy-rejected"],
    [400, { code: "Arrearage", message: "Access denied, please make sure your account is in good standing." }, "resource-exhausted", "provider-quota"],
    [429, { code: "Throttling.AllocationQuota", message: "Free allocated quota exceeded." }, "resource-exhausted", "provider-quota"],
    [400, { code: "InvalidParameter", message: "url error" }, "failed-precondition", "provider-rejected"],
    [401, { code: "InvalidApiKey", message: "Invalid API-key provided." }, "failed-precondition", "provider-rejected"],
    [500, { code: "InternalError", message: "x" }, "unavailable", "provider-unavailable"],
    [503, { message: "no code at all" }, "unavailable", "provider-unavailable"],
  ] as const) {
    test(`submit answered HTTP ${status} ${body.code ?? "(no code)"} ends as ${code} and is not retried`, async () => {
      scriptTask([], { status, json: { request_id: "r", ...body } });
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /inappropriate|API-key|quota exceeded|url error/);
      assert.equal(fakes().api.callsTo("POST", SUBMIT).length, 1);
    });
  }

  test("429 Throttling.RateQuota on submit: unavailable with Retry-After passed on, never retried", async () => {
    scriptTask([], { status: 429, headers: { "retry-after": "7" }, json: { code: "Throttling.RateQuota", message: "Requests rate limit exceeded" } });
    const error = await failure(run());
    assert.equal(error.code, "unavailable");
    assert.equal(error.details?.retryAfterSeconds, 7);
    assert.equal(fakes().api.callsTo("POST", SUBMIT).length, 1);
  });

  test("a poll that fails with 5xx or 429 is retried (polls are idempotent), honouring Retry-After", async () => {
    const { api, cdn, resultPng } = fakes();
    api.on("POST", SUBMIT, { json: task("PENDING") });
    api.on(
      "GET",
      TASK,
      { status: 500, json: { code: "InternalError" } },
      { status: 429, headers: { "retry-after-ms": "20" }, json: { code: "Throttling.RateQuota" } },
      { json: succeeded() },
    );
    cdn.on("GET", "/result.png", { body: resultPng });
    const image = await run();
    assert.equal(image.width, 320);
    assert.equal(api.callsTo("GET", TASK).length, 3);
  });

  test("malformed JSON or a create answer without a task id is a provider fault", async () => {
    scriptTask([], { status: 200, body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    scriptTask([], { json: { request_id: "r", output: { task_status: "PENDING" } } });
    assert.equal((await failure(run())).code, "unavailable");
    fakes().api.reset();
    scriptTask([{ output: { task_id: "task-1" } }]); // poll without a status
    assert.equal((await failure(run())).code, "unavailable");
  });

  test("a result URL that has expired, is not an image, or is too large fails the job clearly", async () => {
    scriptTask([succeeded()]);
    for (const [response, code, reason] of [
      [{ status: 403, body: "<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>" }, "failed-precondition", "provider-rejected"],
      [{ status: 200, body: "<html>not an image</html>" }, "unavailable", "provider-unavailable"],
      [{ status: 200, body: Buffer.alloc(31_000_000, 1) }, "failed-precondition", "provider-rejected"],
    ] as const) {
      fakes().cdn.on("GET", "/result.png", response);
      const error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
    }
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("a task still queued at the provider's deadline ends with deadline-exceeded and is cancelled", async () => {
    scriptTask([task("PENDING")]);
    fakes().api.on("POST", "/api/v1/tasks/task-1/cancel", { json: { request_id: "r" } });
    const error = await withPollDeadline("wan", 150, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
    const [cancel] = fakes().api.callsTo("POST", "/api/v1/tasks/task-1/cancel");
    assert.ok(cancel, "cancel was called");
    assert.equal(cancel.headers.authorization, `Bearer ${KEY}`);
  });

  test("a cancel DashScope refuses (the task already started) does not change the outcome", async () => {
    scriptTask([task("RUNNING")]);
    fakes().api.on("POST", "/api/v1/tasks/task-1/cancel", {
      status: 400,
      json: { code: "UnsupportedOperation", message: "only PENDING tasks can be canceled" },
    });
    const error = await withPollDeadline("wan", 150, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
    assert.equal(fakes().api.callsTo("POST", "/api/v1/tasks/task-1/cancel").length, 1);
  });

  test("a provider that hangs is cut off by the deadline", async () => {
    fakes().api.on("POST", SUBMIT, { hang: true });
    const error = await withPollDeadline("wan", 300, () => failure(run()));
    assert.equal(error.code, "deadline-exceeded");
  });

  test("photos Wan cannot take and over-long prompts are refused before anything is sent", async () => {
    for (const image of [
      { ...face, mime: "image/heic" as const },
      { ...face, width: 256, height: 256 },
      { ...face, width: 6000, height: 4000 },
      { ...face, bytes: new Uint8Array(10 * 1024 * 1024 + 1) },
    ]) {
      const error = await failure(run({ image }));
      assert.equal(error.code, "invalid-argument");
      assert.equal(error.reason, "image-unsupported-by-provider");
    }
    const error = await failure(run({ feature: "edit", prompt: "x".repeat(1990), style: undefined }));
    assert.equal(error.reason, "prompt-too-long");
    assert.equal(fakes().api.calls.length, 0);
  });
});
