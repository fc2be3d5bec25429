/**
 * HEIC/HEIF photos through createJob (issue #5): from both entry points (inline base64 and an
 * uploadImage upload) they are converted to a JPEG without metadata at ingest, so the provider —
 * here the embedded `local` one — only ever gets JPEG; a HEIC that cannot be decoded is refused
 * with a clear invalid-argument and leaves nothing behind.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import sharp from "sharp";
import { HEIC_EXIF_MAKE, makeHeicImage } from "../fixtures/heic.js";
import { exifGpsEntryCount } from "../fixtures/images.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { assertJobKeepsStatusOnly, assertLogsClean, assertNothingLeftFor, secretsOf } from "../support/privacy.js";
import { createJobRequest } from "../support/requests.js";
import type { InputImage } from "../../src/providers/types.js";
import { uploadMetadata } from "../../src/uploads/uploadRecord.js";

useBackends();
const fns = () => import("../../src/index.js");
type Created = { jobId: string; status: string; result?: { mimeType: string; base64: string; width: number; height: number } };

/** Runs createJob with the local provider and returns its answer and the image the provider was given. */
async function runRecordingInput(uid: string, request: unknown): Promise<{ res: Created; seen: InputImage }> {
  const { createJob } = await fns();
  const { localProvider } = await import("../../src/providers/local/index.js");
  const run = localProvider.run;
  let seen: InputImage | undefined;
  localProvider.run = async (req, signal) => ((seen = req.image), run.call(localProvider, req, signal));
  try {
    const res = await callAs<Created>(createJob, uid, request);
    assert.ok(seen, "the provider was called");
    return { res, seen };
  } finally {
    localProvider.run = run;
  }
}

async function saveUpload(uid: string, bytes: Buffer, contentType: string): Promise<string> {
  const uploadId = randomUUID().replaceAll("-", "");
  await getStorage()
    .bucket()
    .file(`transient/uploads/${uid}/${uploadId}`)
    .save(bytes, { contentType, metadata: { metadata: uploadMetadata(uid, Date.now() + 60_000) } });
  return uploadId;
}

/** The same HEIC with its coded slices overwritten: every header check passes, the decoder fails. */
function garbled(heic: Buffer): Buffer {
  const out = Buffer.from(heic);
  for (let i = out.indexOf("mdat") + 8; i < out.length; i++) out[i] = (i * 7919) & 0xff;
  return out;
}

describe("createJob with HEIC/HEIF photos", () => {
  test("an inline HEIC succeeds with local: the provider gets a JPEG of the photo's size; status only, nothing left", async () => {
    const uid = "u-heic";
    const { heic } = await makeHeicImage({ width: 320, height: 240 });
    const image = { base64: heic.toString("base64"), mimeType: "image/heic" };
    const { res, seen } = await runRecordingInput(uid, await createJobRequest({ style: "sepia", image }));

    assert.equal(res.status, "succeeded");
    assert.ok(res.result);
    assert.deepEqual([res.result.mimeType, res.result.width, res.result.height], ["image/jpeg", 320, 240]);
    assert.deepEqual([seen.mime, seen.width, seen.height], ["image/jpeg", 320, 240]);
    const meta = await sharp(Buffer.from(seen.bytes)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 320, 240]);

    const secrets = secretsOf({ base64: image.base64 });
    const job = await assertJobKeepsStatusOnly(res.jobId, secrets);
    assert.equal(job.status, "succeeded");
    await assertNothingLeftFor(uid);
    assertLogsClean(secrets);
  });

  test("providers never see a HEIC's location: its Exif item with GPS is gone after conversion", async () => {
    const { heic } = await makeHeicImage({ withExifGps: true });
    assert.ok(exifGpsEntryCount((await sharp(heic).metadata()).exif) > 0, "the fixture carries an Exif item with GPS");
    const image = { base64: heic.toString("base64"), mimeType: "image/heic" };
    const { res, seen } = await runRecordingInput("u-heic-gps", await createJobRequest({ image }));
    assert.equal(res.status, "succeeded");
    const meta = await sharp(Buffer.from(seen.bytes)).metadata();
    assert.equal(meta.exif, undefined, "no EXIF at all, so no GPS");
    assert.equal(meta.xmp, undefined);
    assert.equal(Buffer.from(seen.bytes).includes(HEIC_EXIF_MAKE), false);
  });

  test("an uploaded HEIC (the uploadImage path) is converted the same way, and the upload is deleted", async () => {
    const uid = "u-heic-up";
    // As an iPhone writes it: a grid of tiles, rotated by the container.
    const { heic } = await makeHeicImage({ width: 256, height: 192, rotateAnticlockwise: 270, tileSize: { width: 128, height: 128 } });
    const uploadId = await saveUpload(uid, heic, "image/heic");
    const { res, seen } = await runRecordingInput(uid, await createJobRequest({ image: { uploadId } }));
    assert.equal(res.status, "succeeded");
    assert.deepEqual([seen.mime, seen.width, seen.height], ["image/jpeg", 192, 256], "rotation applied");
    await assertNothingLeftFor(uid);
  });

  test("an inline HEIC that cannot be decoded: invalid-argument image-undecodable, no job, nothing left", async () => {
    const uid = "u-heic-bad";
    const { heic } = await makeHeicImage();
    const image = { base64: garbled(heic).toString("base64"), mimeType: "image/heic" };
    const { createJob } = await fns();
    const error = await rejectionOf(callAs(createJob, uid, await createJobRequest({ image })));
    assert.equal(error.code, "invalid-argument");
    assert.equal((error.details as { reason?: string }).reason, "image-undecodable");
    assert.match(error.message, /^image could not be decoded/);
    const jobs = await getFirestore().collection("jobs").where("uid", "==", uid).get();
    assert.equal(jobs.size, 0, "refused before any job was recorded");
    await assertNothingLeftFor(uid);
    assertLogsClean(secretsOf({ base64: image.base64 }));
  });

  test("an uploaded HEIC that cannot be decoded: the job ends failed with image-undecodable and the upload is gone", async () => {
    const uid = "u-heic-bad-up";
    const { heic } = await makeHeicImage();
    const uploadId = await saveUpload(uid, garbled(heic), "image/heic");
    const { createJob } = await fns();
    const error = await rejectionOf(callAs(createJob, uid, await createJobRequest({ image: { uploadId } })));
    assert.equal(error.code, "invalid-argument");
    assert.equal((error.details as { reason?: string }).reason, "image-undecodable");
    const jobs = await getFirestore().collection("jobs").where("uid", "==", uid).get();
    assert.equal(jobs.size, 1);
    const job = await assertJobKeepsStatusOnly(jobs.docs[0]!.id);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.code, "image-undecodable");
    await assertNothingLeftFor(uid);
  });
});
