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
import { FAKE_MP4, VIDEO_SCRIPTS } from "../support/videoScripts/index.js";
import { CONSENT, faceImage } from "../support/requests.js";
import { startNpmStart, type RunningStart } from "../support/npmStart.js";

describe("createJob with each provider through the Functions emulator (video through Cloud Tasks)", { timeout: 300_000 }, () => {
  const fakes: Record<string, ScriptContext> = {};
  let stack: RunningStart;
  let client: EmulatorClient;

  before(async () => {
    const resultJpeg = await makeFaceImage({ width: 300, height: 300, format: "jpeg", background: "#ffcc00" });
    const resultPng = await makeFaceImage({ width: 300, height: 300, format: "png", background: "transparent" });
    const env: Record<string, string> = { PROVIDER_POLL_INTERVAL_MS: "5" };
    // One fake API host per provider id: Kling, MiniMax and Wan serve images and video from the
    // same host with the same key, so both scripts are applied to the same fake.
    for (const id of new Set([...Object.keys(PROVIDER_SCRIPTS), ...Object.keys(VIDEO_SCRIPTS)])) {
      const [api, cdn] = await Promise.all([FakeServer.start(), FakeServer.start()]);
      fakes[id] = { api, cdn, resultJpeg, resultPng };
      const image = PROVIDER_SCRIPTS[id];
      const video = VIDEO_SCRIPTS[id];
      image?.happyPath(fakes[id]);
      video?.happyPath({ api, cdn, video: FAKE_MP4 });
      Object.assign(env, video?.credentials, image?.credentials, { [(image ?? video)!.baseUrlEnv]: api.url });
    }
    stack = await startNpmStart(env);
    initializeApp({ projectId: stack.env.GCLOUD_PROJECT, storageBucket: `${stack.env.GCLOUD_PROJECT}.appspot.com` });
    // One signed-in user runs every provider here: lift the per-user video quota (5 an hour).
    await getFirestore()
      .doc("config/runtime")
      .set({
        enabledProviders: ["local", ...Object.keys(fakes)],
        defaults: {},
        quotas: { perFeature: { video: { perHour: 100, perDay: 100 } }, maxConcurrentJobs: 3 },
      });
    client = await emulatorClient(stack.clientOptions);
  });

  after(async () => {
    await client?.close();
    await Promise.all(getApps().map((a) => deleteApp(a)));
    await stack?.stop();
    await Promise.all(Object.values(fakes).flatMap((f) => [f.api.close(), f.cdn.close()]));
  });

  for (const [id, script] of Object.entries(VIDEO_SCRIPTS)) {
    test(`${id} video: started, polled by pollJob through the Cloud Tasks emulator, downloaded by URL, gone after ack`, async () => {
      const res = await client.call<{ jobId: string; status: string }>("createJob", {
        requestId: randomUUID(),
        feature: "video",
        provider: id,
        image: await faceImage("jpeg", 512),
        consent: CONSENT,
      });
      assert.equal(res.status, "running");
      let answer: { status: string; result?: { url: string }; error?: unknown } = { status: "running" };
      for (const started = Date.now(); ["queued", "running"].includes(answer.status) && Date.now() - started < 60_000;) {
        await new Promise((r) => setTimeout(r, 500));
        answer = await client.call("getJobResult", { jobId: res.jobId });
      }
      assert.equal(answer.status, "succeeded", JSON.stringify(answer));
      const video = Buffer.from(await (await fetch(answer.result!.url)).arrayBuffer());
      assert.ok(video.equals(FAKE_MP4));
      await client.call("ackJobResult", { jobId: res.jobId });
      const [objects] = await getStorage().bucket().getFiles({ prefix: "transient/" });
      assert.deepEqual(
        objects.map((o) => o.name),
        [],
      );
      assertNoCredentialSent(fakes[id]!.cdn, Object.values(script.credentials));
    });
  }

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
      assert.deepEqual(
        objects.map((o) => o.name),
        [],
      );
      assertNoCredentialSent(f.cdn, Object.values(script.credentials));
      for (const secret of [...Object.values(script.credentials), image.base64.slice(100, 160)]) {
        assert.ok(!stack.output().includes(secret), "a key or the photo reached the emulator's logs");
      }
    });
  }
});
