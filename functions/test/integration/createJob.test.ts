/**
 * createJob end to end in-process, against the offline Firestore and Storage servers: each image
 * feature with the local provider, idempotency under duplicates, and the privacy invariants after
 * every job.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import sharp from "sharp";
import { useBackends } from "../support/backends.js";
import { callAs } from "../support/callables.js";
import { assertJobKeepsStatusOnly, assertLogsClean, assertNothingLeftFor, secretsOf } from "../support/privacy.js";
import { createJobRequest, faceImage } from "../support/requests.js";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { uploadMetadata } from "../../src/uploads/uploadRecord.js";
import type { SyncImageProvider } from "../../src/providers/types.js";

useBackends();
const fns = () => import("../../src/index.js");
type Created = { jobId: string; status: string; result?: { mimeType: string; base64: string; width: number; height: number } };

describe("createJob with the local provider", () => {
  for (const [feature, extra] of [
    ["style", { style: "sepia" }],
    ["enhance", { style: undefined }],
    ["edit", { style: undefined, prompt: "make it black and white and sharper" }],
    ["cutout", { style: undefined }],
  ] as const) {
    test(`${feature}: returns a transformed image inline; the job keeps status only; nothing is left`, async () => {
      const uid = `user-${feature}`;
      const request = await createJobRequest({ feature, ...extra });
      const { createJob } = await fns();
      const res = await callAs<Created>(createJob, uid, request);

      assert.equal(res.status, "succeeded");
      assert.ok(res.result, "result is returned inline");
      const out = Buffer.from(res.result.base64, "base64");
      const meta = await sharp(out).metadata();
      assert.equal(`image/${meta.format}`, res.result.mimeType);
      assert.equal(meta.width, res.result.width);
      assert.notEqual(res.result.base64, request.image.base64, "the photo was transformed");
      if (feature === "cutout") assert.equal(meta.hasAlpha, true, "a cutout has transparency");

      const secrets = secretsOf({ base64: request.image.base64, prompt: (request as { prompt?: string }).prompt });
      const job = await assertJobKeepsStatusOnly(res.jobId, secrets);
      assert.equal(job.status, "succeeded");
      assert.equal(job.uid, uid);
      assert.equal(job.provider, "local");
      assert.equal(job.inputDeleted, true);
      assert.equal(job.resultDeleted, true);
      assert.equal(job.attempts, 1);
      assert.ok(job.startedAt && job.finishedAt && job.durationMs !== undefined);
      await assertNothingLeftFor(uid);
      assertLogsClean(secrets);
    });
  }

  test("accepts PNG and WebP input as well as JPEG", async () => {
    const { createJob } = await fns();
    for (const format of ["png", "webp"] as const) {
      const res = await callAs<Created>(createJob, "u-formats", await createJobRequest({ image: await faceImage(format) }));
      assert.equal(res.status, "succeeded", format);
    }
  });

  test("providers never see the photo's location: EXIF/GPS is stripped before the provider call", async () => {
    const { createJob } = await fns();
    const { localProvider } = await import("../../src/providers/local/index.js");
    const { withExifGps, exifGpsEntryCount, makeFaceImage } = await import("../fixtures/images.js");
    const withGps = await withExifGps(await makeFaceImage({ width: 128, height: 128, format: "jpeg" }));
    assert.ok(exifGpsEntryCount((await sharp(withGps).metadata()).exif) > 0, "the fixture carries GPS");
    const run = localProvider.run;
    let seen: Uint8Array | undefined;
    localProvider.run = async (req, signal) => ((seen = req.image.bytes), run.call(localProvider, req, signal));
    try {
      await callAs(createJob, "u-gps", await createJobRequest({ image: { base64: withGps.toString("base64"), mimeType: "image/jpeg" } }));
    } finally {
      localProvider.run = run;
    }
    assert.ok(seen, "the provider was called");
    assert.equal(exifGpsEntryCount((await sharp(Buffer.from(seen)).metadata()).exif), 0);
  });

  test("the same caller and requestId give the same job and one provider call", async () => {
    const { createJob } = await fns();
    const request = await createJobRequest();
    const first = await callAs<Created>(createJob, "u-idem", request);
    const again = await callAs<Created>(createJob, "u-idem", request);
    assert.equal(again.jobId, first.jobId);
    assert.equal(again.status, "succeeded");
    assert.equal(again.result, undefined, "an image result is delivered once, never kept for replays");
    const other = await callAs<Created>(createJob, "u-other", request);
    assert.notEqual(other.jobId, first.jobId, "another user's identical requestId is another job");
  });

  test("ten concurrent duplicates create one job and call the provider once", async () => {
    const { createJob } = await fns();
    const { localProvider } = await import("../../src/providers/local/index.js");
    const run = localProvider.run;
    let calls = 0;
    localProvider.run = async (...args) => {
      calls++;
      return run.apply(localProvider, args);
    };
    try {
      const request = await createJobRequest();
      const answers = await Promise.all(Array.from({ length: 10 }, () => callAs<Created>(createJob, "u-race", request)));
      assert.equal(new Set(answers.map((a) => a.jobId)).size, 1);
      assert.equal(answers.filter((a) => a.result).length, 1, "exactly one caller gets the result");
      assert.equal(calls, 1, "one provider call");
      const jobs = await getFirestore().collection("jobs").where("uid", "==", "u-race").get();
      assert.equal(jobs.size, 1);
    } finally {
      localProvider.run = run;
    }
  });

  test("a job cancelled while its provider runs stays cancelled when the provider then fails", async () => {
    const { createJob, cancelJob } = await fns();
    const { loadProvider } = await import("../../src/providers/registry.js");
    const { ProviderFailure } = await import("../../src/providers/types.js");
    const localProvider = (await loadProvider("local")) as SyncImageProvider;
    const run = localProvider.run;
    let providerStarted!: () => void;
    const started = new Promise<void>((resolve) => (providerStarted = resolve));
    let failProvider!: () => void;
    const failNow = new Promise<void>((resolve) => (failProvider = resolve));
    localProvider.run = async () => {
      providerStarted();
      await failNow;
      throw new ProviderFailure({ kind: "retryable", message: "The provider is down." });
    };
    try {
      const request = await createJobRequest();
      const answer = callAs<Created>(createJob, "u-cancel-fail", request).catch((e) => e);
      await started;
      const [job] = (await getFirestore().collection("jobs").where("uid", "==", "u-cancel-fail").get()).docs;
      assert.equal((await callAs<{ status: string }>(cancelJob, "u-cancel-fail", { jobId: job!.id })).status, "cancelled");
      failProvider();
      assert.equal((await answer).code, "unavailable", "the caller still hears what happened to its call");
      const after = await assertJobKeepsStatusOnly(job!.id);
      assert.equal(after.status, "cancelled", "the terminal state stands");
      assert.equal(after.error, undefined);
      await assertNothingLeftFor("u-cancel-fail");
    } finally {
      localProvider.run = run;
    }
  });

  test("an upload is read, used and deleted, and only its owner can use it", async () => {
    const { createJob } = await fns();
    const image = await faceImage("png");
    const uploadId = randomUUID().replaceAll("-", "");
    const path = `transient/uploads/u-up/${uploadId}`;
    await getStorage()
      .bucket()
      .file(path)
      .save(Buffer.from(image.base64, "base64"), {
        contentType: "image/png",
        metadata: { metadata: uploadMetadata("u-up", Date.now() + 60_000) },
      });
    const stranger = await callAs<Created>(createJob, "u-stranger", await createJobRequest({ image: { uploadId } })).catch((e) => e);
    assert.equal(stranger.code, "not-found", "another user's upload is invisible");
    const res = await callAs<Created>(createJob, "u-up", await createJobRequest({ image: { uploadId } }));
    assert.equal(res.status, "succeeded");
    await assertNothingLeftFor("u-up");
  });

  test("an object uploadImage did not write is no upload: not-found, and it is deleted (a client-forged deadline cannot keep it)", async () => {
    const { createJob } = await fns();
    const image = await faceImage("png");
    const forever = String(Date.UTC(2100, 0, 1));
    const forgeries: Record<string, Record<string, string>> = {
      "no writer": { uid: "u-forge", kind: "uploads", deleteAt: forever },
      "another writer": { uid: "u-forge", kind: "uploads", deleteAt: forever, writer: "client" },
      "another kind": { ...uploadMetadata("u-forge", Date.now() + 60_000), kind: "results" } as Record<string, string>,
      "another uid": { ...uploadMetadata("u-other", Date.now() + 60_000) } as Record<string, string>,
    };
    for (const [what, metadata] of Object.entries(forgeries)) {
      const uploadId = randomUUID().replaceAll("-", "");
      const path = `transient/uploads/u-forge/${uploadId}`;
      await getStorage().bucket().file(path).save(Buffer.from(image.base64, "base64"), { contentType: "image/png", metadata: { metadata } });
      const refused = await callAs<Created>(createJob, "u-forge", await createJobRequest({ image: { uploadId } })).catch((e) => e);
      assert.equal(refused.code, "not-found", what);
      assert.equal(refused.details?.reason, "upload-not-found", what);
      assert.equal((await getStorage().bucket().file(path).exists())[0], false, `${what}: the object is deleted`);
    }
    await assertNothingLeftFor("u-forge");
  });
});
