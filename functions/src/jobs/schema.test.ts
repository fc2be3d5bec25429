import assert from "node:assert/strict";
import { test } from "node:test";
import { createJobSchema } from "./schema.js";
import { zodMessage } from "../util/zodMessage.js";

const schema = createJobSchema({ maxImageBytes: 3_000, maxPromptChars: 20 });
const valid = {
  requestId: "0b5f3c1e-8d3a-4f8e-9a57-3f2d1c0b9a88",
  feature: "style",
  style: "noir",
  image: { base64: Buffer.from("hello world!").toString("base64"), mimeType: "image/png" },
  consent: { faceDataProcessing: true, policyVersion: "2026-11" },
};
const messageFor = (data: unknown) => {
  const r = schema.safeParse(data);
  assert.equal(r.success, false, "expected a rejection");
  return zodMessage(r.error!, data);
};

test("a well-formed request parses", () => {
  assert.equal(schema.safeParse(valid).success, true);
});

test("each malformed field is named in the message, and no value is quoted", () => {
  const secret = "SECRETPROMPT";
  const cases: [unknown, RegExp][] = [
    [{ ...valid, requestId: undefined }, /^requestId: required/],
    [{ ...valid, requestId: "abc" }, /^requestId/],
    [{ ...valid, feature: "paint" }, /^feature/],
    [{ ...valid, feature: 3 }, /^feature/],
    [{ ...valid, extra: 1 }, /^request: unknown field \(/],
    [{ ...valid, image: { base64: "@@@@", mimeType: "image/png" } }, /^image/],
    [{ ...valid, image: { base64: "A".repeat(8_000), mimeType: "image/png" } }, /^image/],
    [{ ...valid, image: "not an object" }, /^image/],
    [{ ...valid, prompt: secret + "x".repeat(30) }, /^prompt: .*at most 20/],
    [{ ...valid, prompt: "a\u0007b" }, /^prompt: .*control characters/],
    [{ ...valid, provider: "Bad Provider!" }, /^provider/],
    [{ ...valid, options: { nested: { a: 1 } } }, /^options/],
    [null, /^request/],
  ];
  for (const [data, expected] of cases) {
    const message = messageFor(data);
    assert.match(message, expected);
    assert.ok(!message.includes(secret) && !message.includes("AAAA"), `message quotes input: ${message}`);
  }
});

test("a provider task id is stored only when it is an opaque id, never a URL or a path", async () => {
  const { isOpaqueTaskId } = await import("./schema.js");
  for (const id of [
    "local-video-3f2d1c0b-8d3a-4f8e-9a57-0b5f3c1e9a88",
    "task-1",
    "cgt-20250101-abc",
    "projects/p/locations/us-central1/publishers/google/models/veo-3.0-generate-001/operations/0b5f3c1e",
  ]) {
    assert.equal(isOpaqueTaskId(id), true, id);
  }
  for (const id of [
    "gs://bucket/transient/results/u/j/clip.mp4",
    "https://cdn.example/clip.mp4",
    "HTTP://cdn.example/clip.mp4",
    "task:s3://bucket/key",
    "data:video/mp4;base64,AAAA",
    "/tmp/clip.mp4",
    "./clip.mp4",
    "../clip.mp4",
    "~/clip.mp4",
    "C:\\clips\\a.mp4",
    "transient/results/u/j",
    "id with spaces",
    "",
    "x".repeat(257),
  ]) {
    assert.equal(isOpaqueTaskId(id), false, id);
  }
});
