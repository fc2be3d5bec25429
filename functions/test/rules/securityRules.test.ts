/**
 * Security rules (ARCHITECTURE §6), deny by default, tested with @firebase/rules-unit-testing.
 * Rules are evaluated only by the official Java emulators (Java >= 21 and their downloaded jars);
 * where those are absent this suite is skipped and says why, rather than passing silently.
 */
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

  before(async () => {
    if (skip) return;
    stack = await startLocalStack({ only: ["firestore", "storage"], emulators: "official", ports: { firestore: 0, storage: 0, hub: 0, logging: 0 }, projectId: "demo-photo-fixer-rules" });
    env = await (await rut()).initializeTestEnvironment({
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
    });
  });
  after(async () => {
    await env?.cleanup();
    await stack?.stop();
  });

  test("firestore: owners read their own jobs and privacy choices; nothing else is readable (privacy request records included); no client writes", { skip }, async () => {
    const { assertFails, assertSucceeds } = await rut();
    const alice = env.authenticatedContext("alice").firestore();
    const anon = env.unauthenticatedContext().firestore();
    await assertSucceeds(alice.doc("jobs/alice-job").get());
    await assertSucceeds(alice.collection("jobs").where("uid", "==", "alice").get());
    await assertFails(alice.doc("jobs/bob-job").get());
    await assertFails(alice.collection("jobs").get());
    await assertSucceeds(alice.doc("privacy/alice").get());
    await assertFails(alice.doc("privacy/bob").get());
    await assertFails(alice.doc("config/runtime").get());
    await assertFails(alice.doc("quotas/alice").get());
    await assertFails(anon.doc("jobs/alice-job").get());
    // Privacy choices: only one's own document, by id (no listing other users' choices).
    await assertFails(alice.collection("privacy").get());
    // Records of privacy requests: functions only, not even their subject may read them.
    await assertFails(alice.doc("privacyRequests/r1").get());
    await assertFails(alice.collection("privacyRequests").get());
    await assertFails(anon.collection("privacyRequests").get());
    for (const p of ["jobs/alice-job", "jobs/new", "privacy/alice", "config/runtime", "quotas/alice", "privacyRequests/r1", "privacyRequests/new"]) {
      await assertFails(alice.doc(p).set({ uid: "alice" }));
    }
    await assertFails(alice.doc("privacy/alice").delete());
    await assertFails(alice.doc("privacyRequests/r1").delete());
    await assertFails(alice.doc("jobs/alice-job").delete());
  });

  test("firestore: the admins' daily statistics are closed to every client (read, list, write, delete)", { skip }, async () => {
    const { assertFails } = await rut();
    const alice = env.authenticatedContext("alice").firestore();
    const admin = env.authenticatedContext("admin", { admin: true }).firestore();
    const anon = env.unauthenticatedContext().firestore();
    for (const db of [alice, admin, anon]) {
      await assertFails(db.doc("stats/2026-01-02").get());
      await assertFails(db.collection("stats").get());
      await assertFails(db.doc("stats/2026-01-02").set({ jobs: { total: 0 } }));
      await assertFails(db.doc("stats/2026-01-02").update({ "purge.runs": 99 }));
      await assertFails(db.doc("stats/2026-01-03").set({ day: "2026-01-03" }));
      await assertFails(db.doc("stats/2026-01-02").delete());
    }
  });

  test("storage: owners create their own image uploads within the cap and read their own results only", { skip }, async () => {
    const { assertFails, assertSucceeds } = await rut();
    const alice = env.authenticatedContext("alice").storage();
    const image = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    await assertSucceeds(Promise.resolve(alice.ref("transient/uploads/alice/u1").put(image, { contentType: "image/jpeg" })));
    await assertFails(Promise.resolve(alice.ref("transient/uploads/bob/u1").put(image, { contentType: "image/jpeg" })));
    await assertFails(Promise.resolve(alice.ref("transient/uploads/alice/u2").put(image, { contentType: "text/html" })));
    await assertFails(Promise.resolve(alice.ref("transient/uploads/alice/big").put(new Uint8Array(15_000_001), { contentType: "image/jpeg" })));
    await assertFails(alice.ref("transient/uploads/alice/u1").getDownloadURL());
    await assertSucceeds(alice.ref("transient/results/alice/alice-job").getDownloadURL());
    await assertFails(env.authenticatedContext("bob").storage().ref("transient/results/alice/alice-job").getDownloadURL());
    await assertFails(alice.ref("transient/inputs/alice/alice-job").getDownloadURL());
    await assertFails(Promise.resolve(alice.ref("anything/else").put(image, { contentType: "image/jpeg" })));
    await assertFails(Promise.resolve(env.unauthenticatedContext().storage().ref("transient/uploads/alice/u3").put(image, { contentType: "image/jpeg" })));
  });
});
