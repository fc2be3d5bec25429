/**
 * The scheduled trigger as Cloud Scheduler fires it, through firebase-functions-test: the wiring
 * from `purgeTransient` (index) to the purge, with a real object past its deadline.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { getStorage } from "firebase-admin/storage";
import functionsTest from "firebase-functions-test";
import { useBackends } from "../support/backends.js";

useBackends();

test("the exported purgeTransient schedule deletes what is past its deadline and keeps the rest", async () => {
  const bucket = getStorage().bucket();
  const meta = (deleteAt: number) => ({ metadata: { metadata: { uid: "u", kind: "results", deleteAt: String(deleteAt) } } });
  await bucket.file("transient/results/u/old").save(Buffer.from("x"), meta(Date.now() - 1));
  await bucket.file("transient/results/u/new").save(Buffer.from("x"), meta(Date.now() + 60_000));

  const fft = functionsTest({ projectId: "demo-photo-fixer" });
  try {
    const { purgeTransient } = await import("../../src/index.js");
    await (fft.wrap(purgeTransient as never) as () => Promise<void>)();
  } finally {
    fft.cleanup();
  }
  const [files] = await bucket.getFiles({ prefix: "transient/" });
  assert.deepEqual(
    files.map((f) => f.name),
    ["transient/results/u/new"],
  );
});
