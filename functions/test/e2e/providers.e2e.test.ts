/**
 * createJob with every third-party provider through the Functions emulator, as the app calls it,
 * each provider's adapter talking to the wire-level fake of its API (base URL and generated keys
 * passed to the functions through the environment, as `functions/.env.local` would).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { deleteApp, getApps, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { emulatorClient, type EmulatorClient } from "../../../local/client.js";
import { makeFaceImage } from "../fixtures/images.js";
import { assertNoCredentialSent, FakeServer } from "../support/fakeServer.js";
import { PROVIDER_SCRIPTS, type ScriptContext } from "../support/providerScripts.js";
import { CONSENT, faceImage } from "../support/requests.js";
import { startNpmStart, type RunningStart } from "../support/npmStart.js";

describe("createJob with each provider through the Functions emulator", { timeout: 300_000 }, () => {
  const fakes: Record<string, ScriptContext> = {};
  let stack: RunningStart;
  let client: EmulatorClient;

  before(async () => {
    const resultJpeg = await makeFaceImage({ width: 300, height: 300, format: "jpeg", background: "#ffcc00" });
    const resultPng = await makeFaceImage({ width: 300, height: 300, format: "png", background: "transparent" });
    const env: Record<string, string> = { PROVIDER_POLL_INTERVAL_MS: "5" };
    for (const [id, script] of Object.entries(PROVIDER_SCRIPTS)) {
      const [api, cdn] = await Promise.all([FakeServer.start(), FakeServer.start()]);
      fakes[id] = { api, cdn, resultJpeg, resultPng };
      script.happyPath(fakes[id]);
      Object.assign(env, script.credentials, { [script.baseUrlEnv]: api.url });
    }
    stack = await startNpmStart(env);
    initializeApp({ projectId: stack.env.GCLOUD_PROJECT, storageBucket: `${stack.env.GCLOUD_PROJECT}.appspot.com` });
    await getFirestore().doc("config/runtime").set({ enabledProviders: ["local", ...Object.keys(PROVIDER_SCRIPTS)], defaults: {} });
    client = await emulatorClient(stack.clientOptions);
  });

  after(async () => {
    await client?.close();
    await Promise.all(getApps().map((a) => deleteApp(a)));
    await stack?.stop();
    await Promise.all(Object.values(fakes).flatMap((f) => [f.api.close(), f.cdn.close()]));
  });

  for (const [id, script] of Object.entries(PROVIDER_SCRIPTS)) {
    test(`${id}: the app gets the provider's image back; the job keeps status only; nothing is left`, async () => {
      const image = await faceImage("jpeg", 512); // Wan and Kling refuse sides under 384 and 300 px
      const res = await client.call<{ jobId: string; status: string; result?: { base64: string } }>("createJob", {
        requestId: randomUUID(),
        provider: id,
        image,
        consent: CONSENT,
        ...script.request,
      });
      assert.equal(res.status, "succeeded");
      const f = fakes[id]!;
      assert.ok([f.resultJpeg, f.resultPng].some((b) => b.toString("base64") === res.result?.base64));
      const job = (await getFirestore().doc(`jobs/${res.jobId}`).get()).data()!;
      assert.equal(job.provider, id);
      assert.equal(job.inputDeleted, true);
      assert.doesNotMatch(JSON.stringify(job), /https?:|base64/);
      const [objects] = await getStorage().bucket().getFiles({ prefix: "transient/" });
      assert.deepEqual(objects.map((o) => o.name), []);
      assertNoCredentialSent(f.cdn, Object.values(script.credentials));
      for (const secret of [...Object.values(script.credentials), image.base64.slice(100, 160)]) {
        assert.ok(!stack.output().includes(secret), "a key or the photo reached the emulator's logs");
      }
    });
  }
});
