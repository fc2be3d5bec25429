import assert from "node:assert/strict";
import { test } from "node:test";
import { createJobSchema } from "./schema.js";
import { zodMessage } from "./zodMessage.js";

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
    [{ ...valid, extra: 1 }, /^request: unexpected field extra/],
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
