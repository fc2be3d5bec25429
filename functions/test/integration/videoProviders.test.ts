/**
 * A video job through every video provider's adapter, in-process, each against the wire-level fake
 * of its API: start, polls through the (captured) task queue, the video streamed into transient
 * Storage, acknowledged and gone; a refused start ends the job failed. Privacy invariants on both.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import { VIDEO_PROVIDER_IDS } from "../../src/providers/registry.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertNoCredentialSent, FakeServer } from "../support/fakeServer.js";
import { assertJobKeepsStatusOnly, assertLogsClean, assertNothingLeftFor, secretsOf } from "../support/privacy.js";
import { createJobRequest, faceImage } from "../support/requests.js";
import { FAKE_MP4, VIDEO_SCRIPTS, type VideoScriptContext } from "../support/videoScripts/index.js";

useBackends();
const fns = () => import("../../src/index.js");
let ctx: VideoScriptContext;
let queue: PollTask[] = [];

before(async () => {
  const [api, cdn] = await Promise.all([FakeServer.start(), FakeServer.start()]);
  ctx = { api, cdn, video: FAKE_MP4 };
  process.env.PROVIDER_POLL_INTERVAL_MS = "5";
});
after(async () => {
  await ctx.api.close();
  await ctx.cdn.close();
});
beforeEach(async () => {
  queue = [];
  (await import("../support/dependencies.js")).setPollEnqueuer(async (task) => void queue.push(task));
});
afterEach(async () => (await import("../support/dependencies.js")).setPollEnqueuer(undefined));

async function enableOnly(id: string) {
  const script = VIDEO_SCRIPTS[id]!;
  Object.assign(process.env, script.credentials, { [script.baseUrlEnv]: ctx.api.url });
  await getFirestore()
    .doc("config/runtime")
    .set({ enabledProviders: ["local", id], defaults: {} });
  (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();
  ctx.api.reset();
  ctx.cdn.reset();
}

describe("a video job through each provider's fake", () => {
  test("every video provider has a scripted fake here", () => {
    assert.deepEqual(
      Object.keys(VIDEO_SCRIPTS).sort(),
      VIDEO_PROVIDER_IDS()
        .filter((id) => id !== "local")
        .sort(),
    );
  });

  for (const [id, script] of Object.entries(VIDEO_SCRIPTS)) {
    test(`${id}: started, polled through the queue, streamed into transient Storage, acknowledged and gone`, async () => {
      await enableOnly(id);
      script.happyPath(ctx);
      const uid = `vid-${id}`;
      const request = await createJobRequest({ feature: "video", provider: id, style: undefined, image: await faceImage("jpeg", 512) });
      const { createJob, ackJobResult } = await fns();
      const res = await callAs<{ jobId: string; status: string }>(createJob, uid, request);
      assert.equal(res.status, "running");
      const { pollVideoJob } = await import("../../src/jobs/videoJob.js");
      for (let i = 0; i < 10 && queue.length; i++) await pollVideoJob(queue.shift()!);
      const job = await assertJobKeepsStatusOnly(res.jobId, secretsOf({ base64: request.image.base64 }));
      assert.equal(job.status, "succeeded", JSON.stringify(job.error));
      assert.equal(job.provider, id);
      const [video] = await getStorage().bucket().file(`transient/results/${uid}/${res.jobId}`).download();
      assert.ok(video.equals(FAKE_MP4), "the provider's video, byte for byte");
      await callAs(ackJobResult, uid, { jobId: res.jobId });
      await assertNothingLeftFor(uid);
      assertNoCredentialSent(ctx.cdn, Object.values(script.credentials));
      assertLogsClean([...secretsOf({ base64: request.image.base64 }), ...Object.values(script.credentials)]);
    });

    test(`${id}: a start the provider refuses ends the job failed; nothing is queued or left`, async () => {
      await enableOnly(id);
      script.startError(ctx);
      const uid = `vid-fail-${id}`;
      const request = await createJobRequest({ feature: "video", provider: id, style: undefined, image: await faceImage("jpeg", 512) });
      const error = await rejectionOf(callAs((await fns()).createJob, uid, request));
      assert.equal(error.code, "unavailable");
      const jobs = await getFirestore().collection("jobs").where("uid", "==", uid).get();
      assert.equal(jobs.docs[0]!.get("status"), "failed");
      assert.equal(queue.length, 0);
      await assertNothingLeftFor(uid);
    });
  }
});
