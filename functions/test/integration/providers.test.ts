/**
 * createJob through every third-party provider, in-process, each against the wire-level fake of
 * its API: the job succeeds with the fake's result, or fails cleanly on a provider fault, and the
 * foundation's privacy invariants hold on both paths; no credential reaches a delivery host.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { IMAGE_PROVIDER_IDS } from "../../src/providers/registry.js";
import { makeFaceImage } from "../fixtures/images.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertNoCredentialSent, FakeServer } from "../support/fakeServer.js";
import { assertJobKeepsStatusOnly, assertLogsClean, assertNothingLeftFor, secretsOf } from "../support/privacy.js";
import { PROVIDER_SCRIPTS } from "../support/providerScripts.js";
import { createJobRequest, faceImage } from "../support/requests.js";

useBackends();
const fns = () => import("../../src/index.js");
// Imported lazily: src modules initialise firebase-admin, which must see the test servers' env first.
const clearRuntimeConfigCache = async () => (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();
let ctx: { api: FakeServer; cdn: FakeServer; resultJpeg: Buffer; resultPng: Buffer };

before(async () => {
  const [api, cdn] = await Promise.all([FakeServer.start(), FakeServer.start()]);
  ctx = {
    api,
    cdn,
    resultJpeg: await makeFaceImage({ width: 300, height: 300, format: "jpeg", background: "#ffcc00" }),
    resultPng: await makeFaceImage({ width: 300, height: 300, format: "png", background: "transparent" }),
  };
  process.env.PROVIDER_POLL_INTERVAL_MS = "5";
});
after(async () => {
  await ctx.api.close();
  await ctx.cdn.close();
});

async function enableOnly(id: string) {
  const script = PROVIDER_SCRIPTS[id]!;
  Object.assign(process.env, script.credentials, { [script.baseUrlEnv]: ctx.api.url });
  await getFirestore()
    .doc("config/runtime")
    .set({ enabledProviders: ["local", id], defaults: {} });
  await clearRuntimeConfigCache();
  ctx.api.reset();
  ctx.cdn.reset();
}

describe("createJob through each provider's fake", () => {
  test("every image provider has a scripted fake here", () => {
    assert.deepEqual(Object.keys(PROVIDER_SCRIPTS).sort(), IMAGE_PROVIDER_IDS.filter((id) => id !== "local").sort());
  });

  for (const [id, script] of Object.entries(PROVIDER_SCRIPTS)) {
    test(`${id}: succeeds with the provider's image; status only in the job; nothing left; key never leaves the API host`, async () => {
      await enableOnly(id);
      script.happyPath(ctx);
      const uid = `user-${id}`;
      const request = await createJobRequest({ provider: id, style: undefined, image: await faceImage("jpeg", 512), ...script.request });
      const res = await callAs<{ jobId: string; status: string; result?: { base64: string; mimeType: string } }>((await fns()).createJob, uid, request);
      assert.equal(res.status, "succeeded");
      const served = [ctx.resultJpeg, ctx.resultPng].map((b) => b.toString("base64"));
      assert.ok(served.includes(res.result!.base64), "the result is the provider's image, returned inline");
      assert.ok(ctx.api.calls.length > 0, "the provider's API was called");
      const job = await assertJobKeepsStatusOnly(res.jobId, secretsOf({ base64: request.image.base64 }));
      assert.equal(job.provider, id);
      assert.equal(job.inputDeleted, true);
      await assertNothingLeftFor(uid);
      assertLogsClean([...secretsOf({ base64: request.image.base64 }), ...Object.values(script.credentials), ctx.cdn.url]);
      assertNoCredentialSent(ctx.cdn, Object.values(script.credentials));
    });

    test(`${id}: a provider fault ends the job failed with a stable code; input gone`, async () => {
      await enableOnly(id);
      script.serverError(ctx);
      const uid = `fail-${id}`;
      const request = await createJobRequest({ provider: id, style: undefined, image: await faceImage("jpeg", 512), ...script.request });
      const error = await rejectionOf(callAs((await fns()).createJob, uid, request));
      assert.equal(error.code, "unavailable");
      const snap = await getFirestore().collection("jobs").where("uid", "==", uid).get();
      const job = await assertJobKeepsStatusOnly(snap.docs[0]!.id);
      assert.equal(job.status, "failed");
      assert.equal(job.error?.code, "provider-unavailable");
      assert.equal(job.inputDeleted, true);
      await assertNothingLeftFor(uid);
    });
  }

  test("a provider without credentials is refused and never chosen as a default", async () => {
    await getFirestore()
      .doc("config/runtime")
      .set({ enabledProviders: ["bfl", "local"], defaults: { style: { provider: "bfl" } } });
    await clearRuntimeConfigCache();
    const saved = process.env.BFL_API_KEY;
    delete process.env.BFL_API_KEY;
    try {
      const { createJob } = await fns();
      const error = await rejectionOf(callAs(createJob, "u-nokey", await createJobRequest({ provider: "bfl" })));
      assert.equal(error.code, "failed-precondition");
      assert.match(error.message, /^provider: bfl is not configured/);
      const res = await callAs<{ status: string; jobId: string }>(createJob, "u-nokey", await createJobRequest());
      assert.equal(res.status, "succeeded");
      assert.equal((await getFirestore().doc(`jobs/${res.jobId}`).get()).get("provider"), "local", "the default fell back to a configured provider");
    } finally {
      if (saved) process.env.BFL_API_KEY = saved;
    }
  });
});
