/**
 * Security rules (ARCHITECTURE §6), deny by default, tested with @firebase/rules-unit-testing.
 * Rules are evaluated only by the official Java emulators (Java >= 21 and their downloaded jars);
 * where those are absent this suite is skipped and says why, rather than passing silently.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { officialEmulatorsAvailable, startLocalStack, type LocalStack } from "../../../local/stack.js";

const ROOT = path.resolve(__dirname, "../../..");
const official = officialEmulatorsAvailable();
const skip = official.available ? false : `official Firestore/Storage emulators unavailable (${official.reason}); rules are not evaluated offline`;
if (skip) console.log(`# SKIPPED security rules tests: ${skip}`);

describe("security rules", () => {
  let stack: LocalStack;
  let env: import("@firebase/rules-unit-testing").RulesTestEnvironment;
  const rut = () => import("@firebase/rules-unit-testing");
  /** assertFails, naming the case when the rules allowed it. */
  const denied = async (attempt: Promise<unknown>, what = "") => {
    const { assertFails } = await rut();
    await assertFails(attempt).catch((error: Error) => assert.fail(`${what || "a denied operation"} was allowed: ${error.message}`));
  };

  before(async () => {
    if (skip) return;
    stack = await startLocalStack({
      only: ["firestore", "storage"],
      emulators: "official",
      ports: { firestore: 0, storage: 0, hub: 0, logging: 0 },
      projectId: "demo-photo-fixer-rules",
    });
    env = await (
      await rut()
    ).initializeTestEnvironment({
      projectId: "demo-photo-fixer-rules",
      firestore: { host: "127.0.0.1", port: stack.ports.firestore, rules: readFileSync(path.join(ROOT, "firestore.rules"), "utf8") },
      storage: { host: "127.0.0.1", port: stack.ports.storage, rules: readFileSync(path.join(ROOT, "storage.rules"), "utf8") },
    });
    await env.withSecurityRulesDisabled(async (ctx) => {
      const db = ctx.firestore();
      await db.doc("jobs/alice-job").set({ uid: "alice", status: "running" });
      await db.doc("jobs/bob-job").set({ uid: "bob", status: "running" });
      await db.doc("privacy/alice").set({ optOutOfSale: true });
      await db.doc("config/runtime").set({ killSwitch: false });
      await db.doc("quotas/alice").set({ n: 1 });
      await db.doc("privacyRequests/r1").set({ subject: "a".repeat(64), type: "delete", outcome: "fulfilled" });
      await db.doc("stats/2026-01-02").set({ day: "2026-01-02", jobs: { total: 3 }, purge: { runs: 1 } });
      await ctx.storage().ref("transient/results/alice/alice-job").putString("result");
      await ctx.storage().ref("transient/inputs/alice/alice-job").putString("input");
      await ctx.storage().ref("transient/uploads/alice/seeded-upload").putString("upload");
    });
  });
  after(async () => {
    await env?.cleanup();
    await stack?.stop();
  });

  test(
    "firestore: owners read their own jobs and privacy choices; nothing else is readable (privacy request records included); no client writes",
    { skip },
    async () => {
      const { assertSucceeds } = await rut();
      const alice = env.authenticatedContext("alice").firestore();
      const anon = env.unauthenticatedContext().firestore();
      await assertSucceeds(alice.doc("jobs/alice-job").get());
      await denied(alice.doc("jobs/bob-job").get());
      await denied(anon.doc("jobs/alice-job").get());
      // Privacy choices: only one's own document, by id (no listing other users' choices).
      await assertSucceeds(alice.doc("privacy/alice").get());
      await denied(alice.doc("privacy/bob").get());
      await denied(alice.collection("privacy").get());
      await denied(anon.doc("privacy/alice").get());
      // Quota counters and the runtime config are the functions' own, even the caller's counters.
      await denied(alice.doc("config/runtime").get());
      await denied(alice.doc("quotas/alice").get());
      await denied(alice.doc("quotas/bob").get());
      await denied(alice.collection("quotas").get());
      // Records of privacy requests: functions only, not even their subject may read them.
      await denied(alice.doc("privacyRequests/r1").get());
      await denied(alice.collection("privacyRequests").get());
      await denied(anon.collection("privacyRequests").get());
      for (const p of ["jobs/alice-job", "jobs/new", "privacy/alice", "config/runtime", "quotas/alice", "privacyRequests/r1", "privacyRequests/new"]) {
        await denied(alice.doc(p).set({ uid: "alice" }));
      }
      await denied(alice.doc("privacy/alice").delete());
      await denied(alice.doc("privacyRequests/r1").delete());
      await denied(alice.doc("jobs/alice-job").delete());
    },
  );

  test("firestore jobs: a list must be constrained to the caller's uid; another user's job and a missing job are denied", { skip }, async () => {
    const { assertSucceeds } = await rut();
    const alice = env.authenticatedContext("alice").firestore();
    const anon = env.unauthenticatedContext().firestore();
    const mine = await assertSucceeds(alice.collection("jobs").where("uid", "==", "alice").get());
    assert.deepEqual(
      mine.docs.map((d) => d.id),
      ["alice-job"],
    );
    await assertSucceeds(alice.collection("jobs").where("uid", "==", "alice").where("status", "==", "running").get());
    await denied(alice.collection("jobs").get(), "an unconstrained list");
    await denied(alice.collection("jobs").where("status", "==", "running").get(), "a list constrained on another field");
    await denied(alice.collection("jobs").where("uid", "==", "bob").get(), "another user's jobs");
    await denied(alice.collection("jobs").where("uid", "in", ["alice", "bob"]).get(), "a list that includes another user");
    await denied(anon.collection("jobs").where("uid", "==", "alice").get());
    await denied(alice.doc("jobs/bob-job").get(), "another user's job");
    // A missing document has no uid to match: denied, so probing ids tells nothing.
    await denied(alice.doc("jobs/no-such-job").get(), "a missing job");
  });

  test("firestore: no client write of any kind (create, set, update, delete) on jobs, choices or quotas", { skip }, async () => {
    const alice = env.authenticatedContext("alice").firestore();
    await denied(alice.collection("jobs").add({ uid: "alice", status: "queued" }));
    await denied(alice.doc("jobs/alice-job").update({ status: "succeeded" }));
    await denied(alice.doc("jobs/alice-job").set({ uid: "alice", status: "succeeded" }, { merge: true }));
    await denied(alice.doc("jobs/bob-job").update({ uid: "alice" }));
    await denied(alice.doc("privacy/alice").update({ optOutOfSale: false }));
    await denied(alice.doc("privacy/alice").set({ optOutOfSale: false }, { merge: true }));
    await denied(alice.doc("quotas/alice").update({ n: 0 }));
    await denied(alice.doc("quotas/alice").delete());
    await denied(alice.doc("quotas/alice").set({ n: 0 }));
  });

  test("firestore: the admins' daily statistics are closed to every client (read, list, write, delete)", { skip }, async () => {
    const alice = env.authenticatedContext("alice").firestore();
    const admin = env.authenticatedContext("admin", { admin: true }).firestore();
    const anon = env.unauthenticatedContext().firestore();
    for (const db of [alice, admin, anon]) {
      await denied(db.doc("stats/2026-01-02").get());
      await denied(db.collection("stats").get());
      await denied(db.doc("stats/2026-01-02").set({ jobs: { total: 0 } }));
      await denied(db.doc("stats/2026-01-02").update({ "purge.runs": 99 }));
      await denied(db.doc("stats/2026-01-03").set({ day: "2026-01-03" }));
      await denied(db.doc("stats/2026-01-02").delete());
    }
  });

  test("storage: no client creates anything, not even its own image upload within the cap (uploadImage is the only way in)", { skip }, async () => {
    const alice = env.authenticatedContext("alice").storage();
    const anon = env.unauthenticatedContext().storage();
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const put = (ref: ReturnType<typeof alice.ref>, data: Uint8Array, metadata: Record<string, unknown>) => Promise.resolve(ref.put(data, metadata));
    await denied(put(alice.ref("transient/uploads/alice/u1"), jpeg, { contentType: "image/jpeg" }), "own uid, a JPEG within the cap");
    await denied(put(alice.ref("transient/uploads/bob/u1"), jpeg, { contentType: "image/jpeg" }), "another uid");
    await denied(
      put(alice.ref("transient/uploads/alice/u2"), jpeg, {
        contentType: "image/jpeg",
        customMetadata: { uid: "alice", kind: "uploads", deleteAt: String(Date.UTC(2100, 0, 1)) },
      }),
      "own uid with custom metadata (a forged deadline)",
    );
    await denied(put(alice.ref("transient/uploads/alice/big"), new Uint8Array(15_000_001), { contentType: "image/jpeg" }), "15 MB + 1");
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    await denied(put(alice.ref("transient/uploads/alice/u3"), svg, { contentType: "image/svg+xml" }), "SVG");
    const html = new TextEncoder().encode("<html><body>not an image</body></html>");
    await denied(put(alice.ref("transient/uploads/alice/u4"), html, { contentType: "image/jpeg" }), "a content type that lies");
    await denied(put(alice.ref("transient/uploads/alice/u5"), jpeg, { contentType: "text/html" }), "a non-image type");
    await denied(put(alice.ref("transient/results/alice/alice-job"), jpeg, { contentType: "video/mp4" }), "over one's own result");
    await denied(put(alice.ref("transient/inputs/alice/alice-job"), jpeg, { contentType: "image/jpeg" }), "an input");
    await denied(put(alice.ref("anything/else"), jpeg, { contentType: "image/jpeg" }), "outside transient/");
    await denied(put(anon.ref("transient/uploads/alice/u6"), jpeg, { contentType: "image/jpeg" }), "signed out");
  });

  test("storage: one's own upload cannot be overwritten, read, listed or deleted by the client", { skip }, async () => {
    const alice = env.authenticatedContext("alice").storage();
    const upload = alice.ref("transient/uploads/alice/seeded-upload");
    await denied(Promise.resolve(upload.put(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 9]), { contentType: "image/jpeg" })), "overwrite");
    await denied(upload.updateMetadata({ customMetadata: { deleteAt: String(Date.UTC(2100, 0, 1)) } }), "a new deadline on it");
    await denied(upload.getDownloadURL(), "get (URL)");
    await denied(upload.getMetadata(), "get (metadata)");
    await denied(alice.ref("transient/uploads/alice").listAll(), "list own uploads");
    await denied(alice.ref("transient/uploads").listAll(), "list all uploads");
    await denied(upload.delete(), "delete");
  });

  test("storage: owners read (get) their own held result only; not another user's, not inputs, no list, no delete", { skip }, async () => {
    const { assertSucceeds } = await rut();
    const alice = env.authenticatedContext("alice").storage();
    const bob = env.authenticatedContext("bob").storage();
    await assertSucceeds(alice.ref("transient/results/alice/alice-job").getDownloadURL());
    await denied(bob.ref("transient/results/alice/alice-job").getDownloadURL(), "another user's result");
    await denied(bob.ref("transient/results/alice/alice-job").getMetadata(), "another user's result (metadata)");
    await denied(env.unauthenticatedContext().storage().ref("transient/results/alice/alice-job").getDownloadURL(), "signed out");
    await denied(alice.ref("transient/results/alice").listAll(), "list own results");
    await denied(alice.ref("transient/results/alice/alice-job").delete(), "delete own result (ackJobResult does that)");
    await denied(alice.ref("transient/inputs/alice/alice-job").getDownloadURL(), "an input");
  });
});
