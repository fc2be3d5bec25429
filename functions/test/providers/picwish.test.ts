/**
 * PicWish adapter against a wire-level fake of its documented API (shared/providers/cutout-pro.md,
 * picwish.com/states): the multipart upload per model in sync mode, polling of tasks the sync
 * answer left unfinished, the result download, and every error class.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createPicWishProvider } from "../../src/providers/picwish/index.js";
import { runImageProvider } from "../../src/jobs/runProvider.js";
import { settings } from "../../src/config/params.js";
import { assertNoCredentialSent } from "../support/fakeServer.js";
import { useProviderFakes } from "../support/providerFakes.js";
import { expectSubmitNotRetried, failure, withPollDeadline } from "../support/providerTest.js";
import type { FakeResponse, RecordedCall } from "../support/fakeServer.js";
import type { ImageRequest } from "../../src/providers/types.js";

const KEY = `picwish-test-${process.pid}-${Date.now()}`; // generated, never a real key
const fakes = useProviderFakes("PICWISH_BASE_URL");
const provider = () => createPicWishProvider({ apiKey: KEY });
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({ feature: "cutout", model: "cutout-auto", image: fakes().face, ...over });
const run = (over: Partial<ImageRequest> = {}) => runImageProvider(provider(), request(over), settings());

const SEGMENTATION = "/api/tasks/visual/segmentation";
const resultUrl = () => `${fakes().cdn.url}/tasks/output/result.png`;
const task = (state: number, extra: object = {}) => ({
  json: { status: 200, message: "success", data: { task_id: "t-1", state, progress: state === 1 ? 100 : 40, ...extra } },
});
const done = () => task(1, { image: resultUrl() });

/** Submit answers `submit`; polls of task t-1 answer `polls` in turn; the CDN serves `result`. */
function script(
  submit: FakeResponse,
  polls: FakeResponse[] = [],
  path = SEGMENTATION,
  result: FakeResponse = { body: fakes().resultPng, headers: { "content-type": "image/png" } },
) {
  fakes().api.on("POST", path, submit);
  if (polls.length) fakes().api.on("GET", `${path}/t-1`, ...polls);
  fakes().cdn.on("GET", "/tasks/output/result.png", result);
}
const fields = (call: RecordedCall) => Object.fromEntries([...call.form!.entries()].filter(([name]) => name !== "image_file"));

describe("picwish adapter", () => {
  test("uploads the photo as multipart `image_file` in sync mode with X-API-KEY and downloads the PNG cutout", async () => {
    script(done());
    const image = await run();
    assert.equal(image.mime, "image/png");
    assert.equal(image.width, 320);
    assert.ok(Buffer.from(image.bytes).equals(fakes().resultPng));

    const [call] = fakes().api.callsTo("POST", SEGMENTATION);
    assert.equal(call!.headers["x-api-key"], KEY);
    const file = call!.form!.get("image_file") as File;
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(fakes().face.bytes)));
    assert.equal(file.name, "photo.jpg");
    assert.equal(file.type, "image/jpeg");
    assert.deepEqual(fields(call!), { sync: "1", return_type: "1", output_type: "2", format: "png" }, "type empty = automatic foreground");
    assert.equal(fakes().api.callsTo("GET", /.*/).length, 0, "a sync answer needs no poll");
    assert.equal(fakes().cdn.calls.length, 1);
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("serves cutout and enhance only; each model picks its documented operation and fields", async () => {
    assert.deepEqual(provider().models.defaults, { cutout: "cutout-auto", enhance: "enhance-face" });
    for (const [feature, model, operation, expected] of [
      ["cutout", "cutout-person", "segmentation", { type: "person", output_type: "2", format: "png" }],
      ["cutout", "cutout-face", "self-face-cutout", { output_format: "png" }],
      ["enhance", "enhance-face", "scale", { type: "face" }],
      ["enhance", "enhance-photo", "scale", { type: "clean" }],
      ["enhance", "enhance-pro", "scale-pro", {}],
      ["enhance", "colorize", "colorization", {}],
    ] as const) {
      fakes().api.reset();
      fakes().cdn.reset();
      const path = `/api/tasks/visual/${operation}`;
      script(done(), [], path, { body: feature === "cutout" ? fakes().resultPng : fakes().resultJpeg });
      const image = await run({ feature, model });
      assert.equal(image.mime, feature === "cutout" ? "image/png" : "image/jpeg", model);
      const [call] = fakes().api.callsTo("POST", path);
      assert.deepEqual(fields(call!), { sync: "1", return_type: "1", ...expected }, model);
    }
  });

  test("a task the sync answer leaves unfinished is polled with the key until done", async () => {
    const path = "/api/tasks/visual/scale";
    script(task(4), [task(0), task(2), task(4, { progress: 70 }), done()], path, { body: fakes().resultJpeg });
    const image = await run({ feature: "enhance", model: "enhance-face" });
    assert.equal(image.mime, "image/jpeg");
    const polls = fakes().api.callsTo("GET", `${path}/t-1`);
    assert.equal(polls.length, 4);
    assert.ok(polls.every((p) => p.headers["x-api-key"] === KEY));
    assertNoCredentialSent(fakes().cdn, [KEY]);
  });

  test("a model used for the wrong feature, a HEIC photo or an oversized one is refused before any upload", async () => {
    assert.equal((await failure(run({ feature: "enhance", model: "cutout-face" }))).code, "invalid-argument");
    assert.equal((await failure(run({ feature: "style", model: "colorize", style: "noir" }))).code, "invalid-argument");
    const heic = { ...fakes().face, mime: "image/heif" as const };
    assert.equal((await failure(run({ image: heic }))).reason, "provider-rejected");
    const big = { ...fakes().face, bytes: new Uint8Array(16 * 1024 * 1024) };
    assert.equal((await failure(run({ image: big }))).reason, "provider-rejected");
    const wide = { ...fakes().face, width: 5000 };
    assert.equal((await failure(run({ feature: "enhance", model: "enhance-pro", image: wide }))).reason, "provider-rejected");
    assert.equal(fakes().api.calls.length, 0);
  });

  for (const [state, code, reason] of [
    [-10, "failed-precondition", "provider-policy-rejected"],
    [-16, "failed-precondition", "provider-policy-rejected"],
    [-7, "failed-precondition", "provider-rejected"],
    [-14, "failed-precondition", "provider-rejected"],
    [-8, "unavailable", "provider-unavailable"],
    [-1, "unavailable", "provider-unavailable"],
    [-99, "failed-precondition", "provider-rejected"],
  ] as const) {
    test(`task state ${state} (HTTP 200), in the sync answer or a poll, ends as ${code}`, async () => {
      script(task(state, { state_detail: "secret provider text" }));
      let error = await failure(run());
      assert.equal(error.code, code);
      assert.equal(error.reason, reason);
      assert.doesNotMatch(error.message, /secret provider text|t-1/, "our message, not the provider's text");

      fakes().api.reset();
      script(task(3), [task(4), task(state)]);
      error = await failure(run());
      assert.equal(error.reason, reason);
      assert.equal(fakes().cdn.calls.length, 0);
    });
  }

  test("a failure `status` in a 200 body is classified like the HTTP status it names", async () => {
    for (const [status, code] of [
      [401, "failed-precondition"],
      [400, "failed-precondition"],
      [429, "unavailable"],
      [500, "unavailable"],
    ] as const) {
      fakes().api.reset();
      script({ json: { status, message: "secret provider text" } });
      const error = await failure(run());
      assert.equal(error.code, code, String(status));
      assert.doesNotMatch(error.message, /secret provider text/);
    }
  });

  test("HTTP 429 and 5xx on the upload are never retried (the task may have started); Retry-After is passed on", async () => {
    const responses = [429, 500, 503].map((status) => ({ status, headers: { "retry-after": "2" }, json: { status, message: "slow down" } }));
    await expectSubmitNotRetried(() => fakes().api, ["POST", SEGMENTATION], run, responses, 2);
  });

  test("HTTP 401 and 413 are permanent, 402 is quota", async () => {
    for (const [status, code] of [
      [401, "failed-precondition"],
      [413, "failed-precondition"],
      [402, "resource-exhausted"],
    ] as const) {
      fakes().api.reset();
      script({ status, json: { status } });
      assert.equal((await failure(run())).code, code, String(status));
    }
  });

  test("a poll that fails with 5xx or 429 is retried (polls are idempotent), honouring Retry-After", async () => {
    script(task(0), [{ status: 503 }, { status: 429, headers: { "retry-after-ms": "20" } }, done()]);
    const image = await run();
    assert.equal(image.width, 320);
    assert.equal(fakes().api.callsTo("GET", `${SEGMENTATION}/t-1`).length, 3);
  });

  test("a task PicWish no longer knows (404 on poll) is permanent", async () => {
    script(task(0), [{ status: 404, json: { status: 404 } }]);
    assert.equal((await failure(run())).reason, "provider-rejected");
  });

  test("malformed JSON, an unreadable envelope, a running task without id or success without a URL are provider faults", async () => {
    for (const submit of [
      { body: "{not json", headers: { "content-type": "application/json" } },
      { json: { status: "200", data: {} } },
      { json: { status: 200, data: { state: "done" } } },
      { json: { status: 200, data: { state: 4 } } },
      { json: { status: 200, data: { task_id: "t-1", state: 1, image: null } } },
      { json: { status: 200, data: { task_id: "t-1", state: 1, image: "iVBORw0KGgo=" } } },
    ]) {
      fakes().api.reset();
      script(submit);
      assert.equal((await failure(run())).code, "unavailable", JSON.stringify(submit));
    }
  });

  test("a result URL that has expired, is not an image, is a JPEG cutout, or is too large fails the job clearly", async () => {
    for (const [response, code] of [
      [{ status: 403, body: "<Error>AccessDenied: Request has expired</Error>" }, "failed-precondition"],
      [{ status: 404, body: "NoSuchKey" }, "failed-precondition"],
      [{ status: 200, body: "<html>not an image</html>" }, "unavailable"],
      [{ status: 200, body: fakes().resultJpeg }, "unavailable"],
      [{ status: 200, body: Buffer.alloc(31_000_000, 1) }, "failed-precondition"],
    ] as const) {
      fakes().api.reset();
      fakes().cdn.reset();
      script(done(), [], SEGMENTATION, response);
      assert.equal((await failure(run())).code, code);
      assertNoCredentialSent(fakes().cdn, [KEY]);
    }
  });

  test("a stored job whose poll URL points at a foreign host is refused and gets no key", async () => {
    const job = { provider: "picwish", id: "t-1", pollUrl: `${fakes().cdn.url}/api/tasks/visual/segmentation/t-1`, submittedAt: Date.now() };
    const error = await provider()
      .poll(job)
      .then(
        () => undefined,
        (e) => provider().classify(e),
      );
    assert.equal(error?.kind, "permanent");
    assert.equal(fakes().cdn.calls.length, 0);
  });

  test("a task that never finishes ends with deadline-exceeded at the provider's deadline", async () => {
    script(task(0), [task(4)]);
    assert.equal((await withPollDeadline("picwish", 150, () => failure(run()))).code, "deadline-exceeded");
  });

  test("a provider that hangs is cut off by the timeout", async () => {
    script({ hang: true });
    assert.equal((await withPollDeadline("picwish", 300, () => failure(run()))).code, "deadline-exceeded");
  });
});
