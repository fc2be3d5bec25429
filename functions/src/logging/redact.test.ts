import assert from "node:assert/strict";
import { test } from "node:test";
import { redactFields, redactText } from "./redact.js";

test("URLs, tokens, keys and image data are replaced; ids and codes survive", () => {
  const jobId = "a".repeat(40);
  const fakeKey = ["sk", "proj", "x".repeat(20)].join("-"); // made here: no key-shaped literal in the repository
  const cases: [string, string][] = [
    ["fetch https://cdn.example.com/r.jpg?X-Goog-Signature=abc123 failed", "fetch [url] failed"],
    ["stored at gs://bucket/transient/results/u/j", "stored at [url]"],
    ["Authorization: Bearer ya29.a0AfH6SMBx-token_value", "Authorization: Bearer [token]"],
    ["id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl here", "id token [token] here"],
    [`key ${fakeKey} leaked`, "key [key] leaked"],
    [`image /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/ end`, "image [data] end"],
    ["inline data:image/png;base64,iVBORw0KGgo=", "inline [data]"],
    [`job ${jobId} failed with provider-unavailable`, `job ${jobId} failed with provider-unavailable`],
    ["upload 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f done", "upload 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f done"],
  ];
  for (const [input, expected] of cases) assert.equal(redactText(input), expected);
});

test("long texts are cut; fields are redacted at any depth and keep their types", () => {
  assert.equal(redactText("x ".repeat(400)).length, 501);
  assert.deepEqual(redactFields({ jobId: "j1", n: 3, ok: true, nested: { url: "https://a.b/c?sig=1", list: ["Bearer abc.def"] } }), {
    jobId: "j1",
    n: 3,
    ok: true,
    nested: { url: "[url]", list: ["Bearer [token]"] },
  });
});
