/**
 * Bad input, case by case (issue: foundation, item 9): each gets the documented HttpsError code and
 * a message naming the field, never echoing image data, and leaves no open job and no object behind.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { NON_IMAGES, makeBombJpeg, makeBombPng, makeFaceImage, truncate } from "../fixtures/images.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertLogsClean, assertNoOpenJobs, assertNothingLeftFor, secretsOf } from "../support/privacy.js";
import { CONSENT, createJobRequest } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");
const UID = "u-bad";
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

async function expectRejected(data: unknown, code: string, field: RegExp, uid: string | null = UID) {
  const { createJob } = await fns();
  const error = await rejectionOf(callAs(createJob, uid ?? undefined, data));
  assert.equal(error.code, code, `${error.message}`);
  assert.match(error.message, field);
  const image = (data as { image?: { base64?: string } })?.image?.base64;
  if (image && image.length > 40) {
    for (const s of secretsOf({ base64: image })) assert.ok(!error.message.includes(s), "message echoes image data");
    assertLogsClean(secretsOf({ base64: image }));
  }
  assert.ok(error.message.length < 300, "message is short");
  await assertNoOpenJobs(UID);
  await assertNothingLeftFor(UID);
  return error;
}

describe("createJob refuses bad input with a clear HttpsError", () => {
  test("no Auth: unauthenticated", async () => {
    await expectRejected(await createJobRequest(), "unauthenticated", /Sign in/, null);
  });

  test("no App Check token, or a replayed one, in production: permission-denied, before anything else", async () => {
    const { createJob } = await fns();
    const error = await rejectionOf(callAs(createJob, UID, await createJobRequest(), { appCheck: false }));
    assert.equal(error.code, "permission-denied");
    assert.match(error.message, /App Check/);
    const replayed = await rejectionOf(callAs(createJob, UID, await createJobRequest(), { replayedAppCheck: true }));
    assert.equal(replayed.code, "permission-denied", "a replayed (already consumed) App Check token is refused");
    await assertNoOpenJobs(UID);
  });

  test("missing, extra and wrong-typed fields name the field", async () => {
    const base = await createJobRequest();
    await expectRejected({ ...base, requestId: undefined }, "invalid-argument", /^requestId: required/);
    await expectRejected({ ...base, feature: undefined }, "invalid-argument", /^feature: required/);
    await expectRejected({ ...base, image: undefined }, "invalid-argument", /^image/);
    await expectRejected({ ...base, surprise: true }, "invalid-argument", /^request: unknown field \(/);
    await expectRejected({ ...base, image: { ...base.image, url: "https://example.com/x.jpg" } }, "invalid-argument", /^image/);
    await expectRejected({ ...base, feature: 42 }, "invalid-argument", /^feature/);
    await expectRejected({ ...base, requestId: "not-a-uuid" }, "invalid-argument", /^requestId: must be a UUID/);
    await expectRejected({ ...base, image: { base64: 12, mimeType: "image/jpeg" } }, "invalid-argument", /^image/);
    await expectRejected("just a string", "invalid-argument", /^request/);
    await expectRejected(null, "invalid-argument", /^request/);
  });

  test("invalid base64 and empty image", async () => {
    const base = await createJobRequest();
    await expectRejected({ ...base, image: { base64: "!!not base64!!", mimeType: "image/jpeg" } }, "invalid-argument", /^image/);
    await expectRejected({ ...base, image: { base64: "", mimeType: "image/jpeg" } }, "invalid-argument", /^image/);
  });

  test("a declared mimeType that does not match the bytes", async () => {
    const png = await makeFaceImage({ format: "png", width: 64, height: 64 });
    await expectRejected(await createJobRequest({ image: { base64: b64(png), mimeType: "image/jpeg" } }), "invalid-argument", /^image.*(png|match)/i);
  });

  for (const [kind, bytes] of Object.entries(NON_IMAGES)) {
    test(`non-image bytes (${kind}) declared as an image`, async () => {
      await expectRejected(await createJobRequest({ image: { base64: b64(bytes), mimeType: "image/jpeg" } }), "invalid-argument", /^image/);
    });
  }

  test("truncated JPEG and PNG", async () => {
    for (const format of ["jpeg", "png"] as const) {
      const whole = await makeFaceImage({ format, width: 128, height: 128 });
      await expectRejected(
        await createJobRequest({ image: { base64: b64(truncate(whole, Math.floor(whole.length * 0.6))), mimeType: `image/${format}` } }),
        "invalid-argument",
        /^image/,
      );
    }
  });

  test("a header declaring huge dimensions (decompression bomb) is caught by the pixel cap", async () => {
    await expectRejected(await createJobRequest({ image: { base64: b64(makeBombPng()), mimeType: "image/png" } }), "invalid-argument", /^image.*pixels/);
    await expectRejected(
      await createJobRequest({ image: { base64: b64(await makeBombJpeg()), mimeType: "image/jpeg" } }),
      "invalid-argument",
      /^image.*pixels/,
    );
  });

  test("an oversize payload", async () => {
    const huge = "A".repeat(Math.ceil(15_000_000 / 3) * 4 + 4);
    await expectRejected(await createJobRequest({ image: { base64: huge, mimeType: "image/jpeg" } }), "invalid-argument", /^image.*larger than 15 MB/);
  });

  test("a prompt over the length cap or with control characters", async () => {
    await expectRejected(await createJobRequest({ feature: "edit", prompt: "brighter ".repeat(300) }), "invalid-argument", /^prompt: must be at most 2000/);
    await expectRejected(await createJobRequest({ feature: "edit", prompt: "brighter\u001b[31m" }), "invalid-argument", /^prompt: must not contain control/);
  });

  test("an edit prompt the local provider does not understand ends the job failed, input gone", async () => {
    const error = await expectRejected(await createJobRequest({ feature: "edit", prompt: "turn me into a dragon" }), "invalid-argument", /^prompt/);
    assert.ok(!error.message.includes("dragon"), "the prompt is not echoed");
    const jobs = await getFirestore().collection("jobs").where("uid", "==", UID).get();
    assert.equal(jobs.size, 1);
    assert.equal(jobs.docs[0]!.get("status"), "failed");
    assert.equal(jobs.docs[0]!.get("inputDeleted"), true);
    assert.equal(jobs.docs[0]!.get("error.code"), "prompt-not-understood");
  });

  test("unknown feature, provider or model", async () => {
    await expectRejected(await createJobRequest({ feature: "paint" }), "invalid-argument", /^feature: must be one of/);
    await expectRejected(await createJobRequest({ provider: "acme" }), "invalid-argument", /^provider: unknown provider/);
    await expectRejected(await createJobRequest({ model: "gpt-9000" }), "invalid-argument", /^model: not available for local/);
    await expectRejected(await createJobRequest({ style: "no-such-preset" }), "invalid-argument", /^style/);
  });

  test("a disabled provider, a model the admins did not allow, and the global kill switch", async () => {
    const { clearRuntimeConfigCache } = await import("../../src/config/runtimeConfig.js");
    await getFirestore().doc("config/runtime").set({ enabledProviders: [], defaults: {} });
    clearRuntimeConfigCache();
    await expectRejected(await createJobRequest(), "failed-precondition", /^provider: local is disabled/);
    await getFirestore()
      .doc("config/runtime")
      .set({ enabledProviders: ["local"], allowedModels: { local: ["local-effects-1"] } });
    clearRuntimeConfigCache();
    await expectRejected(await createJobRequest({ feature: "cutout" }), "invalid-argument", /^model: not available for local; available: local-effects-1$/);
    await getFirestore()
      .doc("config/runtime")
      .set({ killSwitch: true, enabledProviders: ["local"] });
    clearRuntimeConfigCache();
    await expectRejected(await createJobRequest(), "unavailable", /paused/);
  });

  test("missing or false consent", async () => {
    await expectRejected(await createJobRequest({ consent: undefined }), "failed-precondition", /^consent/);
    await expectRejected(await createJobRequest({ consent: { ...CONSENT, faceDataProcessing: false } }), "failed-precondition", /^consent/);
    await expectRejected(await createJobRequest({ consent: { policyVersion: "x" } }), "failed-precondition", /^consent/);
  });

  test("cutout of a busy background with the local provider is an honest failed-precondition", async () => {
    const busy = await makeFaceImage({ width: 128, height: 128, background: "gradient-noise" });
    await expectRejected(
      await createJobRequest({ feature: "cutout", image: { base64: b64(busy), mimeType: "image/jpeg" } }),
      "failed-precondition",
      /plain background/,
    );
  });

  test("client-chosen text (an invented field, an options key, an unknown style id) is in no message, details, log or document", async () => {
    const { createJob } = await fns();
    const { capturedLogs } = await import("../support/logCapture.js");
    const canary = "zqcanary7x3k";
    const base = await createJobRequest({ feature: "style", style: "noir" });
    const cases: [string, unknown, RegExp][] = [
      ["an invented top-level field", { ...base, [`${canary}Field`]: true }, /^request: unknown field/],
      ["an invented field in image", { ...base, image: { ...base.image, [`${canary}Field`]: 1 } }, /^image/],
      ["an options key with a bad value", { ...base, options: { [`${canary}Key`]: { nested: true } } }, /^options: /],
      ["an options key that is not a key", { ...base, options: { [`${canary}-key!`]: 1 } }, /^options: invalid key/],
      ["an unknown style id", { ...base, style: `${canary}-style` }, /^style: not one of noir, /],
    ];
    for (const [what, data, expected] of cases) {
      const error = await rejectionOf(callAs(createJob, UID, data));
      assert.equal(error.code, "invalid-argument", `${what}: ${error.message}`);
      assert.match(error.message, expected, what);
      assert.ok(!JSON.stringify({ message: error.message, details: error.details }).includes(canary), `${what}: the error echoes it: ${error.message}`);
    }
    assert.ok(!capturedLogs().includes(canary), "a log line holds client-chosen text");
    const db = getFirestore();
    for (const collection of await db.listCollections()) {
      for (const doc of (await collection.get()).docs) assert.ok(!JSON.stringify(doc.data()).includes(canary), `${doc.ref.path} holds client-chosen text`);
    }
    const failed = await db.collection("jobs").where("uid", "==", UID).where("error.code", "==", "style-unknown").get();
    assert.equal(failed.size, 1, "the unknown style reached the provider and its job ended failed, with our text only");
    await assertNoOpenJobs(UID);
  });
});
