/**
 * Admission control (ARCHITECTURE §10 Capacity, capacity/admission.ts) through the real triggers,
 * against the offline Firestore and Storage servers: many photos at once on one instance with a
 * small memory budget wait their turn or are refused as `unavailable` / `instance-busy` with
 * `retryAfterSeconds`; a refused request leaves no job, no quota count and no object, and keeps
 * its upload for the retry; the budget is never exceeded and always given back.
 *
 * The budget is scaled to the test photo (1 MP here, a 22 MP photo in bench/capacity.ts): the gate
 * only sees the charge, so the arithmetic is the same.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterEach, describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { HttpsError } from "firebase-functions/v2/https";
import { makeFaceImage } from "../fixtures/images.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertNothingLeftFor, transientObjectsOf } from "../support/privacy.js";
import { createJobRequest } from "../support/requests.js";

useBackends();

const fns = () => import("../../src/index.js");
const admission = () => import("../../src/capacity/admission.js");
type Created = { jobId: string; status: string };

const PHOTO_SIZE = 1024; // 1 MP: a charge of about 13 MB (1.5 x 3.1 MB + 2.5x the file + 8 MB)
/** A style that holds no raw pixels (noir, the requests' default, adds 1 byte a pixel): two fit the 26 MB budget. */
const STREAMED_STYLE = { style: "vintage" };
const jobsOf = async (uid: string) => (await getFirestore().collection("jobs").where("uid", "==", uid).get()).docs;
const quotaOf = async (uid: string) => (await getFirestore().doc(`quotas/${uid}`).get()).exists;

function setBudget(createJobMb: number, waitMs: number) {
  process.env.CREATE_JOB_ADMISSION_MB = String(createJobMb);
  process.env.ADMISSION_WAIT_MS = String(waitMs);
}

afterEach(() => {
  delete process.env.CREATE_JOB_ADMISSION_MB;
  delete process.env.UPLOAD_ADMISSION_MB;
  delete process.env.ADMISSION_WAIT_MS;
});

/** Samples the gate while `work` runs: the most it ever had committed. */
async function peakInUse<T>(gate: { inUse: number }, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, gate.inUse)), 1);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
  }
}

describe("createJob under a burst", () => {
  test("12 photos at once with room for 2: the others wait, none fails, the budget is never exceeded", async () => {
    setBudget(26, 60_000);
    const { createJob } = await fns();
    const image = { base64: (await makeFaceImage({ width: PHOTO_SIZE, height: PHOTO_SIZE })).toString("base64"), mimeType: "image/jpeg" };
    const gate = await (await admission()).gateFor("createJob");
    const uids = Array.from({ length: 12 }, (_, i) => `burst-wait-${i}-${randomUUID()}`);
    const { result, peak } = await peakInUse(gate, () =>
      Promise.all(uids.map(async (uid) => callAs<Created>(createJob, uid, await createJobRequest({ image, ...STREAMED_STYLE })))),
    );
    assert.deepEqual(
      result.map((r) => r.status),
      uids.map(() => "succeeded"),
    );
    assert.ok(peak > 0 && peak <= 26_000_000, `peak commitment ${peak} within the 26 MB budget`);
    assert.equal(gate.inUse, 0, "every grant was given back");
    assert.equal(gate.waiting, 0);
  });

  test("12 photos at once with a short wait: some are refused unavailable/instance-busy before any job or quota; the rest succeed", async () => {
    setBudget(26, 150);
    const { createJob } = await fns();
    const image = { base64: (await makeFaceImage({ width: PHOTO_SIZE, height: PHOTO_SIZE })).toString("base64"), mimeType: "image/jpeg" };
    const uids = Array.from({ length: 12 }, (_, i) => `burst-refuse-${i}-${randomUUID()}`);
    const outcomes = await Promise.all(
      uids.map(async (uid) => {
        try {
          return await callAs<Created>(createJob, uid, await createJobRequest({ image, ...STREAMED_STYLE }));
        } catch (error) {
          return error;
        }
      }),
    );
    const refused = outcomes.flatMap((o, i) => (o instanceof HttpsError ? [{ error: o, uid: uids[i]! }] : []));
    const others = outcomes.filter((o) => !(o instanceof HttpsError));
    assert.ok(refused.length >= 1, "some requests found the instance busy");
    assert.ok(others.length >= 2, "the budget's worth ran");
    for (const o of others) assert.equal((o as Created).status, "succeeded");
    for (const { error, uid } of refused) {
      assert.equal(error.code, "unavailable");
      const details = error.details as { reason: string; retryAfterSeconds: number };
      assert.equal(details.reason, "instance-busy");
      assert.ok(Number.isInteger(details.retryAfterSeconds) && details.retryAfterSeconds >= 1 && details.retryAfterSeconds <= 30);
      assert.deepEqual(await jobsOf(uid), [], "no job for a refused request");
      assert.equal(await quotaOf(uid), false, "no quota counted for a refused request");
      await assertNothingLeftFor(uid);
    }
    assert.equal((await (await admission()).gateFor("createJob")).inUse, 0);
  });

  test("a refused createJob keeps the caller's upload; the retry uses it and deletes it", async () => {
    setBudget(26, 0);
    const { createJob } = await fns();
    const uid = `busy-upload-${randomUUID()}`;
    const uploadId = randomUUID().replaceAll("-", "");
    const { transientPaths } = await import("../../src/storage/paths.js");
    const { saveTransient } = await import("../../src/storage/transientStore.js");
    const { uploadMetadata } = await import("../../src/uploads/uploadRecord.js");
    const photo = await makeFaceImage({ width: PHOTO_SIZE, height: PHOTO_SIZE });
    await saveTransient(transientPaths.upload(uid, uploadId), photo, "image/jpeg", uploadMetadata(uid, Date.now() + 600_000));

    const gate = await (await admission()).gateFor("createJob");
    const busy = await gate.acquire(26_000_000); // another job holds the whole budget
    const request = await createJobRequest({ image: { uploadId } });
    let refusal: HttpsError;
    try {
      refusal = await rejectionOf(callAs(createJob, uid, request));
    } finally {
      busy();
    }
    assert.equal(refusal.code, "unavailable");
    assert.equal((refusal.details as { reason: string }).reason, "instance-busy");
    assert.deepEqual(await jobsOf(uid), []);
    assert.equal(await quotaOf(uid), false);
    assert.deepEqual(await transientObjectsOf(uid), [transientPaths.upload(uid, uploadId)], "the upload waits for the retry");

    const retried = await callAs<Created>(createJob, uid, request);
    assert.equal(retried.status, "succeeded");
    await assertNothingLeftFor(uid);
  });

  test("an upload's charge comes from its size and header dimensions, read without taking it", async () => {
    const { createJobBytes, imageJobBytes } = await admission();
    const uid = `sized-upload-${randomUUID()}`;
    const uploadId = randomUUID().replaceAll("-", "");
    const { transientPaths } = await import("../../src/storage/paths.js");
    const { saveTransient } = await import("../../src/storage/transientStore.js");
    const { uploadMetadata } = await import("../../src/uploads/uploadRecord.js");
    const photo = await makeFaceImage({ width: 1200, height: 800 });
    await saveTransient(transientPaths.upload(uid, uploadId), photo, "image/jpeg", uploadMetadata(uid, Date.now() + 600_000));
    assert.equal(await createJobBytes(uid, { image: { uploadId } }), imageJobBytes(photo.length, { width: 1200, height: 800 }));
    assert.equal(await createJobBytes("someone-else", { image: { uploadId } }), 0, "not the caller's: createJob answers not-found");
    assert.equal(await createJobBytes(uid, { image: { base64: photo.toString("base64") } }), imageJobBytes(photo.length, { width: 1200, height: 800 }));
    assert.equal(await createJobBytes(uid, { image: 42 }), 0, "malformed: refused by validation, not charged");
    assert.deepEqual(await transientObjectsOf(uid), [transientPaths.upload(uid, uploadId)]);
  });

  test("a request naming no provider pays a local effect's held pixels only while local is enabled (routing picks among enabled ones)", async () => {
    const { createJobBytes, imageJobBytes } = await admission();
    const { clearRuntimeConfigCache } = await import("../../src/config/runtimeConfig.js");
    const photo = await makeFaceImage({ width: 640, height: 480 });
    const plain = imageJobBytes(photo.length, { width: 640, height: 480 });
    const enhance = { feature: "enhance", image: { base64: photo.toString("base64"), mimeType: "image/jpeg" } };
    // The default config/runtime enables local only.
    assert.equal(await createJobBytes("u", enhance), plain + 4 * 640 * 480);
    await getFirestore()
      .doc("config/runtime")
      .set({ enabledProviders: ["openai"], defaults: { enhance: { provider: "openai" } } });
    clearRuntimeConfigCache();
    assert.equal(await createJobBytes("u", enhance), plain, "local can neither be chosen nor fall back");
    assert.equal(await createJobBytes("u", { ...enhance, provider: "local" }), plain + 4 * 640 * 480, "named: charged as local whatever config says");
  });
});

describe("uploadImage under a burst", () => {
  test("a full upload budget answers 503 unavailable/instance-busy with Retry-After, and stores nothing", async () => {
    process.env.UPLOAD_ADMISSION_MB = "1";
    process.env.ADMISSION_WAIT_MS = "0";
    const { createUploadHandler } = await import("../../src/triggers/https/uploadHandler.js");
    const handleUpload = createUploadHandler({ verifyIdToken: async (token) => ({ uid: token.replace(/^test:/, "") }), verifyAppCheck: async () => undefined });
    const server = http.createServer((req, res) => void handleUpload(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const gate = await (await admission()).gateFor("uploadImage");
    const busy = await gate.acquire(1_000_000);
    const uid = `busy-uploader-${randomUUID()}`;
    try {
      const form = new FormData();
      form.append("file", new Blob([await makeFaceImage({ width: 256, height: 256 })], { type: "image/jpeg" }), "face.jpg");
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        method: "POST",
        headers: { Authorization: `Bearer test:${uid}`, "X-Firebase-AppCheck": "test-app-check" },
        body: form,
      });
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
      const body = (await res.json()) as { error: { code: string; reason: string; retryAfterSeconds: number } };
      assert.equal(body.error.code, "unavailable");
      assert.equal(body.error.reason, "instance-busy");
      assert.equal(body.error.retryAfterSeconds, Number(res.headers.get("retry-after")));
      await assertNothingLeftFor(uid);
    } finally {
      busy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    assert.equal(gate.inUse, 0);
  });
});
