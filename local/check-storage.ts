/**
 * Self-check of the in-process Storage emulator with firebase-admin's Storage client.
 * Run: `tsx local/check-storage.ts` (uses a free port; exits non-zero on failure).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as path from "node:path";
import { startStorageEmulator } from "./storage-emulator";

const requireFn = createRequire(path.join(__dirname, "../functions/package.json"));

async function main() {
  const storage = await startStorageEmulator({ port: 0 });
  process.env.FIREBASE_STORAGE_EMULATOR_HOST = storage.hostPort;
  process.env.STORAGE_EMULATOR_HOST = `http://${storage.hostPort}`;
  process.env.METADATA_SERVER_DETECTION = "none";
  const { initializeApp } = requireFn("firebase-admin/app") as typeof import("firebase-admin/app");
  const { getStorage } = requireFn("firebase-admin/storage") as typeof import("firebase-admin/storage");
  const app = initializeApp({ projectId: "demo-photo-fixer", storageBucket: "demo-photo-fixer.appspot.com" }, "check");
  const bucket = getStorage(app).bucket();
  const t0 = Date.now();

  const file = bucket.file("uploads/u1/photo.jpg");
  await file.save(Buffer.from("jpeg-bytes"), { contentType: "image/jpeg", metadata: { metadata: { uid: "u1", jobId: "j1" } } });
  const [meta] = await file.getMetadata();
  assert.equal(meta.contentType, "image/jpeg");
  assert.deepEqual(meta.metadata, { uid: "u1", jobId: "j1" });
  const [bytes] = await file.download();
  assert.equal(bytes.toString(), "jpeg-bytes");

  for (let i = 0; i < 5; i++) await bucket.file(`results/u1/r${i}.png`).save(Buffer.from(`r${i}`));
  await bucket.file("results/u2/other.png").save(Buffer.from("x"));
  const [page1, next1] = await bucket.getFiles({ prefix: "results/u1/", maxResults: 2, autoPaginate: false });
  assert.deepEqual(
    page1.map((f) => f.name),
    ["results/u1/r0.png", "results/u1/r1.png"],
  );
  assert.ok(next1?.pageToken, "has a page token");
  const [page2] = await bucket.getFiles({ prefix: "results/u1/", maxResults: 2, autoPaginate: false, pageToken: next1!.pageToken });
  assert.deepEqual(
    page2.map((f) => f.name),
    ["results/u1/r2.png", "results/u1/r3.png"],
  );
  const [all] = await bucket.getFiles({ prefix: "results/u1/" });
  assert.equal(all.length, 5);

  await file.setMetadata({ metadata: { status: "done" } });
  assert.equal((await file.getMetadata())[0].metadata?.status, "done");
  await file.delete();
  assert.equal((await file.exists())[0], false);

  // Signed URLs: report what happens (no service account offline).
  try {
    const [url] = await bucket.file("results/u1/r0.png").getSignedUrl({ action: "read", expires: Date.now() + 60_000 });
    console.log("getSignedUrl ->", url);
    const res = await fetch(url);
    console.log("fetch(signed url) ->", res.status, res.ok ? (await res.text()).slice(0, 20) : "");
  } catch (err) {
    console.log("getSignedUrl failed:", (err as Error).message.split("\n")[0]);
  }

  storage.reset();
  assert.equal((await bucket.getFiles())[0].length, 0, "reset clears objects");
  console.log(`storage-emulator: all checks passed in ${Date.now() - t0} ms`);
  await storage.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
