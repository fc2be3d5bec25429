/**
 * Self-check of the offline Firestore server with the real firebase-admin client over gRPC.
 * Run: `tsx local/check-firestore.ts` (uses a free port; exits non-zero on failure).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as path from "node:path";
import { startFirestoreServer } from "./firestore-server";

// firebase-admin lives in the functions package.
const requireFn = createRequire(path.join(__dirname, "../functions/package.json"));

async function main() {
  process.env.METADATA_SERVER_DETECTION = "none"; // no GCE metadata probing offline
  const server = await startFirestoreServer({ port: 0 });
  process.env.FIRESTORE_EMULATOR_HOST = server.hostPort;
  const { initializeApp } = requireFn("firebase-admin/app") as typeof import("firebase-admin/app");
  const { getFirestore, FieldValue, Timestamp } = requireFn("firebase-admin/firestore") as typeof import("firebase-admin/firestore");
  const app = initializeApp({ projectId: "demo-photo-fixer" }, "check");
  const db = getFirestore(app);
  const t0 = Date.now();

  // get/set/update/delete, transforms, nested fields, FieldValue.delete()
  const ref = db.doc("jobs/a");
  await ref.set({
    status: "queued",
    n: 1,
    meta: { x: 1, y: 2 },
    tags: ["a"],
    createdAt: FieldValue.serverTimestamp(),
    updatedAt: FieldValue.serverTimestamp(),
  });
  let snap = await ref.get();
  assert.equal(snap.get("status"), "queued");
  assert.ok(snap.get("createdAt") instanceof Timestamp && snap.get("updatedAt") instanceof Timestamp, "both serverTimestamps");
  await ref.update({
    n: FieldValue.increment(2),
    "meta.y": FieldValue.delete(),
    "meta.z": 3,
    tags: FieldValue.arrayUnion("b", "a"),
    "counters.hits": FieldValue.increment(1),
    newArr: FieldValue.arrayUnion("q"),
  });
  snap = await ref.get();
  assert.deepEqual(
    [snap.get("n"), snap.get("meta"), snap.get("tags"), snap.get("counters"), snap.get("newArr")],
    [3, { x: 1, z: 3 }, ["a", "b"], { hits: 1 }, ["q"]],
  );
  await ref.update({ status: FieldValue.delete() });
  assert.equal((await ref.get()).get("status"), undefined);
  await assert.rejects(db.doc("jobs/missing").update({ a: 1 }), /NOT_FOUND|no entity/i);
  await assert.rejects(ref.create({ a: 1 }), (e: { code?: number }) => e.code === 6); // ALREADY_EXISTS
  await ref.set({ only: true }); // set() without merge replaces every field, in a batch or a transaction too
  assert.deepEqual((await ref.get()).data(), { only: true });
  await db.runTransaction(async (tx) => void tx.set(ref, { inTx: (await tx.get(ref)).get("only") }));
  assert.deepEqual((await ref.get()).data(), { inTx: true });
  await ref.set({ merged: 1 }, { merge: true });
  assert.deepEqual((await ref.get()).data(), { inTx: true, merged: 1 });
  await ref.delete();
  assert.equal((await ref.get()).exists, false);

  // batched write is atomic: a failing create rolls back the other write
  await db.doc("jobs/exists").set({ v: 1 });
  const b = db.batch();
  b.set(db.doc("jobs/b1"), { v: 1 });
  b.create(db.doc("jobs/exists"), { v: 2 });
  await assert.rejects(b.commit());
  assert.equal((await db.doc("jobs/b1").get()).exists, false, "batch rolled back");

  // queries: where ==, < on timestamps, orderBy, limit, count, cursors, null, collection group
  const base = Date.UTC(2024, 0, 1);
  const w = db.batch();
  for (let i = 0; i < 6; i++) {
    w.set(db.doc(`q/d${i}`), { uid: i % 2 ? "u1" : "u2", at: Timestamp.fromMillis(base + i * 1000), i, maybe: i === 0 ? null : i });
  }
  w.set(db.doc("users/u1/subjobs/j1"), { kind: "sub" });
  w.set(db.doc("users/u2/subjobs/j2"), { kind: "sub" });
  await w.commit();
  const cutoff = Timestamp.fromMillis(base + 3000);
  let q = await db.collection("q").where("uid", "==", "u1").where("at", "<", cutoff).orderBy("at", "desc").get();
  assert.deepEqual(
    q.docs.map((d) => d.id),
    ["d1"],
  );
  q = await db.collection("q").where("at", "<=", cutoff).orderBy("at").limit(2).get();
  assert.deepEqual(
    q.docs.map((d) => d.id),
    ["d0", "d1"],
  );
  const page2 = await db.collection("q").orderBy("at").startAfter(q.docs[1]).limit(2).get();
  assert.deepEqual(
    page2.docs.map((d) => d.id),
    ["d2", "d3"],
  );
  assert.equal((await db.collection("q").where("uid", "==", "u2").count().get()).data().count, 3);
  assert.deepEqual(
    (await db.collection("q").where("maybe", "==", null).get()).docs.map((d) => d.id),
    ["d0"],
  );
  assert.equal((await db.collectionGroup("subjobs").get()).size, 2);
  assert.deepEqual(
    (await db.collection("q").where("i", "in", [1, 4]).get()).docs.map((d) => d.id),
    ["d1", "d4"],
  );

  // transactions: read-then-create race, exactly one creates; retries see the winner
  const lock = db.doc("locks/l1");
  let release!: () => void;
  const barrier = new Promise<void>((r) => (release = r));
  let readers = 0;
  let attempts = 0;
  const racer = (who: string) =>
    db.runTransaction(async (t) => {
      attempts++;
      const s = await t.get(lock);
      if (++readers === 2) release();
      await barrier; // both have read "missing" before either commits
      if (s.exists) return `lost:${s.get("owner")}`;
      t.create(lock, { owner: who });
      return "won";
    });
  const results = await Promise.all([racer("A"), racer("B")]);
  assert.equal(results.filter((r) => r === "won").length, 1, `exactly one winner: ${results.join(",")}`);
  assert.equal(attempts, 3, "the loser retried once after ABORTED");

  // blind create() in two transactions: the second fails with ALREADY_EXISTS
  const blind = (who: string) =>
    db.runTransaction(async (t) => {
      t.create(db.doc("locks/l2"), { owner: who });
    });
  const settled = await Promise.allSettled([blind("A"), blind("B")]);
  assert.equal(settled.filter((s) => s.status === "fulfilled").length, 1);
  const failure = settled.find((s) => s.status === "rejected") as PromiseRejectedResult;
  assert.equal(failure.reason.code, 6, "ALREADY_EXISTS");

  // counter increments under contention are serialised (no lost updates)
  await db.doc("c/x").set({ n: 0 });
  await Promise.all(
    Array.from({ length: 5 }, () =>
      db.runTransaction(async (t) => {
        const s = await t.get(db.doc("c/x"));
        t.update(db.doc("c/x"), { n: s.get("n") + 1 });
      }),
    ),
  );
  assert.equal((await db.doc("c/x").get()).get("n"), 5);

  // update_time precondition
  const wr = await db.doc("c/y").set({ v: 1 });
  await db.doc("c/y").update({ v: 2 }, { lastUpdateTime: wr.writeTime });
  await assert.rejects(db.doc("c/y").update({ v: 3 }, { lastUpdateTime: wr.writeTime }));

  // BulkWriter (BatchWrite), listDocuments, listCollections, recursiveDelete
  const bw = db.bulkWriter();
  for (let i = 0; i < 5; i++) void bw.set(db.doc(`bulk/b${i}`), { i });
  await bw.close();
  assert.equal((await db.collection("bulk").listDocuments()).length, 5);
  assert.deepEqual(
    (await db.doc("users/u1").listCollections()).map((c) => c.id),
    ["subjobs"],
  );
  assert.ok((await db.listCollections()).map((c) => c.id).includes("bulk"));
  await db.recursiveDelete(db.collection("users"));
  assert.equal((await db.collectionGroup("subjobs").get()).size, 0);

  // reset over HTTP like the official emulator, then in-process
  const res = await fetch(`http://${server.hostPort}/emulator/v1/projects/demo-photo-fixer/databases/(default)/documents`, { method: "DELETE" });
  assert.equal(res.status, 200);
  assert.equal((await db.collection("q").get()).size, 0);
  await db.doc("z/z").set({ a: 1 });
  server.reset();
  assert.equal((await db.doc("z/z").get()).exists, false);

  console.log(`firestore-server: all checks passed in ${Date.now() - t0} ms`);
  await db.terminate();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
