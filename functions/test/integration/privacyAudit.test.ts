/**
 * The privacy audit (`npm run audit:privacy`) against the offline Firestore and Storage servers:
 * what the real pipeline leaves counts zero; one seeded violation of each kind is counted, and
 * only that one; the audit changes nothing.
 *
 * Auth: firebase-tools' Auth emulator takes ~10 s to start in-process (it compiles its OpenAPI
 * spec), so the module's tests use the audit's `getUsers` seam (shaped like firebase-admin's
 * `Auth.getUsers`, backed by a set of uids that records each batch), and the command's tests use
 * firebase-admin's own getUsers against a wire-level fake of the emulator's `accounts:lookup`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { UserIdentifier } from "firebase-admin/auth";
import { auditCommand } from "../../../scripts/audit-privacy.js";
import { useBackends } from "../support/backends.js";
import { callAs } from "../support/callables.js";
import { FakeServer } from "../support/fakeServer.js";
import { createJobRequest } from "../support/requests.js";

useBackends();

const DAY = 86_400_000;
const audit = () => import("../../src/privacy/audit.js");

async function admin() {
  await import("../../src/admin.js");
  const { getFirestore, Timestamp } = await import("firebase-admin/firestore");
  const { getStorage } = await import("firebase-admin/storage");
  return { db: getFirestore(), bucket: getStorage().bucket(), Timestamp };
}

/** An Auth stand-in with the given accounts; remembers every batch it was asked. */
function accounts(...uids: string[]) {
  const existing = new Set(uids);
  const batches: number[] = [];
  const getUsers = async (ids: UserIdentifier[]) => {
    batches.push(ids.length);
    const asked = ids.map((id) => (id as { uid: string }).uid);
    return {
      users: asked.filter((u) => existing.has(u)).map((uid) => ({ uid })) as never[],
      notFound: asked.filter((u) => !existing.has(u)).map((uid) => ({ uid })),
    };
  };
  return { getUsers, batches };
}

/** Everything stored, with its version stamps: equal before and after means nothing was written. */
async function snapshotOfEverything(): Promise<string> {
  const { db, bucket } = await admin();
  const docs: string[] = [];
  const walk = async (collections: FirebaseFirestore.CollectionReference[]) => {
    for (const c of collections) {
      for (const ref of await c.listDocuments()) {
        const snap = await ref.get();
        docs.push(`${ref.path} ${snap.exists ? `${snap.updateTime?.toMillis()} ${JSON.stringify(snap.data())}` : "(missing)"}`);
        await walk(await ref.listCollections());
      }
    }
  };
  await walk(await db.listCollections());
  const [files] = await bucket.getFiles();
  const objects = files.map(
    (f) => `${f.name} ${f.metadata.generation} ${f.metadata.metageneration} ${f.metadata.updated} ${JSON.stringify(f.metadata.metadata)}`,
  );
  return [...docs.sort(), ...objects.sort()].join("\n");
}

/** What a working deployment holds: a finished job and its quota from the real pipeline, choices, a request record, a live upload. */
async function seedCleanState(now: number) {
  const { db, Timestamp } = await admin();
  const { createJob } = await import("../../src/index.js");
  const { saveTransient } = await import("../../src/storage/transientStore.js");
  const { transientPaths } = await import("../../src/storage/paths.js");
  const created = await callAs<{ jobId: string; status: string }>(createJob, "alice", await createJobRequest());
  assert.equal(created.status, "succeeded");
  await db.doc("config/runtime").set({ enabledProviders: ["local"] }, { merge: true });
  await db.doc("privacy/alice").set({ optOutOfSale: true, optOutOfSharing: true, gpc: false, updatedAt: Timestamp.fromMillis(now) });
  await db.doc("privacyRequests/r1").set({
    subject: "a".repeat(64),
    type: "opt-out",
    channel: "app",
    requestedAt: Timestamp.fromMillis(now),
    respondedAt: Timestamp.fromMillis(now),
    outcome: "fulfilled",
    expireAt: Timestamp.fromMillis(now + 700 * DAY),
  });
  await saveTransient(transientPaths.upload("bob", "upload-0123456789abcdef"), Buffer.from("jpeg"), "image/jpeg", {
    uid: "bob",
    kind: "uploads",
    deleteAt: String(now + 30 * 60_000),
  });
  return created.jobId;
}

describe("audit:privacy", () => {
  test("what the pipeline leaves behind counts zero, and the accounts are looked up once", async () => {
    const now = Date.now();
    await seedCleanState(now);
    const { auditPrivacy, VIOLATIONS } = await audit();
    const auth = accounts("alice", "bob");
    const report = await auditPrivacy({ now, getUsers: auth.getUsers });
    assert.deepEqual(report.counts, Object.fromEntries(Object.keys(VIOLATIONS).map((k) => [k, 0])), JSON.stringify(report.examples));
    assert.ok(report.scanned.documents >= 4, `scanned ${report.scanned.documents} documents`);
    assert.equal(report.scanned.objects, 1);
    assert.equal(report.scanned.users, 2, "alice (job, quota, choices) and bob (upload)");
    assert.deepEqual(auth.batches, [2]);
  });

  test("the web console's whole flow (upload, image and video jobs, result, export, delete) through the handlers leaves 0 violations", async () => {
    const http = await import("node:http");
    const { createJob, getJobResult, ackJobResult, exportMyData, deleteMyData } = await import("../../src/index.js");
    const { uploadImageFunction } = await import("../../src/triggers/https/uploadImage.js");
    const { setPollEnqueuer } = await import("../support/dependencies.js");
    const { pollVideoJob } = await import("../../src/jobs/videoJob.js");
    const { faceImage } = await import("../support/requests.js");
    const polls: import("../../src/jobs/pollQueue.js").PollTask[] = [];
    setPollEnqueuer(async (task) => void polls.push(task));
    const uploadImage = uploadImageFunction({ verifyIdToken: async (token) => ({ uid: token.replace(/^test:/, "") }), verifyAppCheck: async () => undefined });
    const server = http.createServer((req, res) => void (uploadImage as unknown as import("node:http").RequestListener)(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      // Upload, then a job from it (the web console's "large photo" path).
      const photo = await faceImage("jpeg", 384);
      const form = new FormData();
      form.append("file", new Blob([Buffer.from(photo.base64, "base64")], { type: "image/jpeg" }), "photo.jpg");
      const { port } = server.address() as import("node:net").AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { authorization: "Bearer test:alice", "x-firebase-appcheck": "t" },
        body: form,
      });
      const { uploadId } = (await answer.json()) as { uploadId: string };
      assert.equal(answer.status, 200);
      const fromUpload = await callAs<{ status: string }>(createJob, "alice", await createJobRequest({ image: { uploadId } }));
      assert.equal(fromUpload.status, "succeeded");
      // An inline image job, and a local video job polled to its held result, fetched and acknowledged.
      assert.equal((await callAs<{ status: string }>(createJob, "alice", await createJobRequest())).status, "succeeded");
      const video = await callAs<{ jobId: string; status: string }>(
        createJob,
        "alice",
        await createJobRequest({ feature: "video", style: undefined, image: photo }),
      );
      assert.equal(video.status, "running");
      while (polls.length) await pollVideoJob(polls.shift()!);
      const held = await callAs<{ result: { url: string } }>(getJobResult, "alice", { jobId: video.jobId });
      assert.ok((await fetch(held.result.url)).ok);
      // The audit in the middle of the flow, while the video is held, finds nothing either.
      const { auditPrivacy, VIOLATIONS } = await audit();
      const zero = Object.fromEntries(Object.keys(VIOLATIONS).map((k) => [k, 0]));
      const whileHeld = await auditPrivacy({ getUsers: accounts("alice", "bob").getUsers });
      assert.deepEqual(whileHeld.counts, zero, JSON.stringify(whileHeld.examples));
      await callAs(ackJobResult, "alice", { jobId: video.jobId });
      const exported = JSON.stringify(await callAs(exportMyData, "alice", {}));
      assert.doesNotMatch(exported, /gs:\/\//, "the export holds no gs:// location");
      // Another user makes a job and deletes their data.
      await callAs(createJob, "bob", await createJobRequest());
      await callAs(deleteMyData, "bob", {});
      const report = await auditPrivacy({ getUsers: accounts("alice", "bob").getUsers });
      assert.deepEqual(report.counts, zero, JSON.stringify(report.examples));
      assert.ok(report.scanned.documents >= 4, `scanned ${report.scanned.documents} documents`);
    } finally {
      setPollEnqueuer(undefined);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("each kind of violation is counted, only where it is, and the audit writes nothing", async () => {
    const now = Date.now();
    const jobId = await seedCleanState(now);
    const { db, bucket, Timestamp } = await admin();
    const job = (await db.doc(`jobs/${jobId}`).get()).data()!;
    const ts = (ms: number) => Timestamp.fromMillis(ms);
    const put = (name: string, metadata?: Record<string, string>) => bucket.file(name).save(Buffer.from("x"), { resumable: false, metadata: { metadata } });
    const live = String(now + 30 * 60_000);

    // jobFieldsOutsideStatusSet: 1 (a prompt kept beside the status)
    await db.doc("jobs/j-extra").set({ ...job, prompt: "make me look ten years younger" });
    // suspiciousValues: 4 documents (a signed URL in an allowed field, base64 in choices, bytes in quotas, a long string in a record)
    await db.doc("jobs/j-url").set({ ...job, error: { code: "provider-failed", message: "see https://storage.googleapis.com/b/o?X-Goog-Signature=abc" } });
    await db.doc("privacy/alice").set({ note: "iVBORw0KGgo".padEnd(160, "A") }, { merge: true });
    await db.doc("quotas/alice").set({ thumbnail: Buffer.from([0xff, 0xd8, 0xff]) }, { merge: true });
    await db.doc("privacyRequests/r-long").set({ subject: "b".repeat(64), outcome: "failed", failureCode: "x".repeat(301), expireAt: ts(now + DAY) });
    // documentsPastRetention: 2 (a finished job 40 days old; a request record past expireAt). A running job that old is the stale-job purge's, not retention's.
    await db.doc("jobs/j-old").set({ ...job, createdAt: ts(now - 40 * DAY), deadlineAt: ts(now - 40 * DAY + 600_000) });
    await db.doc("jobs/j-old-running").set({ ...job, status: "running", createdAt: ts(now - 40 * DAY), deadlineAt: ts(now - 40 * DAY + 600_000) });
    await db.doc("privacyRequests/r-expired").set({ subject: "c".repeat(64), outcome: "fulfilled", expireAt: ts(now - DAY) });
    // objectsPastDeadline: 1 (an hour late); one a minute late is within the purge's grace
    await put("transient/results/alice/j-late", { uid: "alice", kind: "results", deleteAt: String(now - 3_600_000) });
    await put("transient/results/alice/j-just-late", { uid: "alice", kind: "results", deleteAt: String(now - 60_000) });
    // objectsOutsideAllowedPrefixes: 3 (outside transient/, an unknown kind, no object below the uid)
    await put("faces/alice.jpg", { uid: "alice", kind: "uploads", deleteAt: live });
    await put("transient/thumbnails/alice/t1", { uid: "alice", kind: "uploads", deleteAt: live });
    await put("transient/uploads/alice", { uid: "alice", kind: "uploads", deleteAt: live });
    // objectsMissingMetadata: 5 (none at all; another user's uid; a kind that disagrees with the path; a bad deleteAt)
    await put("transient/uploads/alice/no-metadata");
    await put("transient/inputs/alice/j-foreign", { uid: "mallory", kind: "inputs", deleteAt: live });
    await put("transient/inputs/alice/j-kind", { uid: "alice", kind: "results", deleteAt: live });
    await put("transient/results/alice/j-bad-deadline", { uid: "alice", kind: "results", deleteAt: "tomorrow" });
    // ... and a deleteAt far past what its kind may live after Storage created it (a forged deadline)
    await put("transient/uploads/alice/forged-deadline", { uid: "alice", kind: "uploads", deleteAt: String(Date.UTC(2100, 0, 1)) });
    // usersWithoutAccount: 3 (a job, a quota document, an upload of users Auth does not know)
    await db.doc("jobs/j-ghost").set({ ...job, uid: "ghost-job" });
    await db.doc("quotas/ghost-quota").set({ hour: { start: ts(now), count: 1 } });
    await put("transient/uploads/ghost-upload/u1", { uid: "ghost-upload", kind: "uploads", deleteAt: live });
    // unexpectedCollections: 3 (two top-level, one under a job)
    await db.doc("faces/alice").set({ uid: "alice" });
    await db.doc("analytics/e1").set({ event: "open" });
    await db.doc(`jobs/${jobId}/debug/trace`).set({ step: 1 });

    const before = await snapshotOfEverything();
    const { auditPrivacy } = await audit();
    const report = await auditPrivacy({ now, getUsers: accounts("alice", "bob").getUsers, pageSize: 3 });
    assert.equal(await snapshotOfEverything(), before, "the audit wrote nothing");

    assert.deepEqual(report.counts, {
      jobFieldsOutsideStatusSet: 1,
      suspiciousValues: 4,
      documentsPastRetention: 2,
      objectsPastDeadline: 1,
      objectsOutsideAllowedPrefixes: 3,
      objectsMissingMetadata: 5,
      usersWithoutAccount: 3,
      unexpectedCollections: 3,
    });
    const ex = report.examples;
    assert.deepEqual(ex.jobFieldsOutsideStatusSet, ["jobs/j-extra: prompt"]);
    assert.deepEqual(ex.suspiciousValues.sort(), [
      "jobs/j-url: error.message",
      "privacy/alice: note",
      "privacyRequests/r-long: failureCode",
      "quotas/alice: thumbnail",
    ]);
    assert.deepEqual(ex.documentsPastRetention.sort(), ["jobs/j-old", "privacyRequests/r-expired"]);
    assert.deepEqual(ex.objectsPastDeadline, ["transient/results/alice/j-late"]);
    assert.deepEqual(ex.objectsOutsideAllowedPrefixes.sort(), ["faces/alice.jpg", "transient/thumbnails/alice/t1", "transient/uploads/alice"]);
    assert.deepEqual(ex.objectsMissingMetadata.sort(), [
      "transient/inputs/alice/j-foreign",
      "transient/inputs/alice/j-kind",
      "transient/results/alice/j-bad-deadline",
      "transient/uploads/alice/forged-deadline",
      "transient/uploads/alice/no-metadata",
    ]);
    assert.deepEqual(ex.usersWithoutAccount, ["ghost-job", "ghost-quota", "ghost-upload"]);
    assert.deepEqual(ex.unexpectedCollections.sort(), ["analytics", "faces", `jobs/${jobId}/debug`]);
    for (const examples of Object.values(ex)) {
      assert.doesNotMatch(examples.join("\n"), /ten years younger|X-Goog-Signature|iVBORw0KGgo/, "examples name places, never values");
    }
  });

  test("a forged far-off deleteAt: reported at once, and as past its deadline once its kind's TTL after creation (plus grace) has gone", async () => {
    const { bucket } = await admin();
    const { settings } = await import("../../src/config/params.js");
    const created = Date.now();
    await bucket.file("transient/uploads/alice/forged").save(Buffer.from("x"), {
      resumable: false,
      metadata: { metadata: { uid: "alice", kind: "uploads", deleteAt: String(Date.UTC(2100, 0, 1)) } },
    });
    const { auditPrivacy, DEFAULT_GRACE_MS } = await audit();
    const getUsers = accounts("alice").getUsers;
    const fresh = await auditPrivacy({ now: created, getUsers });
    assert.deepEqual([fresh.counts.objectsMissingMetadata, fresh.counts.objectsPastDeadline], [1, 0]);
    const late = await auditPrivacy({ now: created + settings().uploadTtlMinutes * 60_000 + DEFAULT_GRACE_MS + 5_000, getUsers });
    assert.deepEqual(late.examples.objectsPastDeadline, ["transient/uploads/alice/forged"]);
  });

  test("a deletion underway (its marker in quotas/{uid}, the account already gone) is no user data; a marker past stale plus grace is kept too long", async () => {
    const { db } = await admin();
    const { deletionMarker, DELETION_MARKER_STALE_MS } = await import("../../src/quotas/deletionMarker.js");
    const { auditPrivacy, DEFAULT_GRACE_MS } = await audit();
    const now = Date.now();
    // onUserDeleted runs right after deleteMyData({ deleteAccount: true }) has deleted the account.
    await db.doc("quotas/deleted-account").set(deletionMarker(now - 1_000));
    const underway = await auditPrivacy({ now, getUsers: accounts().getUsers });
    assert.equal(underway.counts.usersWithoutAccount, 0, "a marker alone holds no data of the user's");
    assert.equal(underway.counts.documentsPastRetention, 0);
    // ... but a marker beside counters is the user's quota document, and is theirs.
    await db.doc("quotas/deleted-account").set({ ...deletionMarker(now - 1_000), hour: { count: 1 } });
    assert.deepEqual((await auditPrivacy({ now, getUsers: accounts().getUsers })).examples.usersWithoutAccount, ["deleted-account"]);
    // A deletion that crashed: its marker outlives DELETION_MARKER_STALE_MS (the purge deletes it).
    await db.doc("quotas/deleted-account").set(deletionMarker(now - DELETION_MARKER_STALE_MS - DEFAULT_GRACE_MS - 1_000));
    const crashed = await auditPrivacy({ now, getUsers: accounts().getUsers });
    assert.deepEqual(crashed.examples.documentsPastRetention, ["quotas/deleted-account"]);
  });

  test("accounts are looked up 100 uids at a time; ids Auth cannot hold are accountless without a lookup", async () => {
    const { usersWithoutAccount } = await audit();
    const uids = Array.from({ length: 250 }, (_, i) => `user-${i}`);
    const auth = accounts(...uids.filter((_, i) => i % 50 !== 0));
    const missing = await usersWithoutAccount([...uids, "x".repeat(129)], auth.getUsers);
    assert.deepEqual(auth.batches.sort(), [100, 100, 50]);
    assert.deepEqual(missing, ["user-0", "user-100", "user-150", "user-200", "user-50", "x".repeat(129)]);
  });

  test("what it audits comes from paths.ts; a location it cannot read stops it instead of being skipped", async () => {
    const { auditPlan, UID_PLACEHOLDER: uid } = await audit();
    const { userDataLocations } = await import("../../src/privacy/paths.js");
    const plan = auditPlan();
    assert.deepEqual(
      [...plan.allowedCollections].sort(),
      ["config", "jobs", "privacy", "privacyRequests", "providerSlots", "quotas", "stats"],
      "user-data locations plus NON_USER_COLLECTIONS",
    );
    assert.deepEqual(plan.uidDocCollections.sort(), ["privacy", "quotas"]);
    assert.deepEqual(plan.uidFieldCollections, [{ collection: "jobs", field: "uid" }], "request records are pseudonymous: no uid to look up");
    assert.deepEqual(plan.objectPatterns.map((p) => p.kind).sort(), ["inputs", "results", "uploads"]);

    const [choices, jobs, uploads] = ["privacyChoices", "jobs", "uploads"].map((id) => userDataLocations(uid).find((l) => l.id === id)!);
    const unreadable = [
      { ...choices, path: `users/${uid}/choices/current` }, // a nested document
      { ...jobs, collection: `users/${uid}/jobs` }, // a subcollection
      { ...uploads, prefix: "transient/uploads/shared/" }, // a prefix that does not name the user
      { ...choices, kind: "bigquery-table" }, // a kind of store it does not know
    ];
    for (const location of unreadable) {
      assert.throws(() => auditPlan(undefined, [location as never]), /audit: (cannot scan|unknown location)/, JSON.stringify(location));
    }
  });

  test("the command: counts per kind, examples, exit 1 on violations and 0 when clean; accounts from the Auth emulator API", async () => {
    const now = Date.now();
    await seedCleanState(now);
    // The Auth emulator's wire API, as firebase-admin's getUsers calls it under FIREBASE_AUTH_EMULATOR_HOST.
    const authApi = await FakeServer.start();
    authApi.on("POST", /\/accounts:lookup$/, (call) => ({
      json: { users: (call.json.localId as string[]).filter((uid) => ["alice", "bob"].includes(uid)).map((localId) => ({ localId })) },
    }));
    process.env.FIREBASE_AUTH_EMULATOR_HOST = authApi.host;
    const run = async (argv: string[] = []) => {
      const lines: string[] = [];
      const code = await auditCommand({ argv, env: { ...process.env }, log: (line) => lines.push(line) });
      return { code, out: lines.join("\n") };
    };
    try {
      const clean = await run();
      assert.equal(clean.code, 0, clean.out);
      assert.match(clean.out, /scanned \d+ collections, \d+ documents, 1 objects, 2 users/);
      assert.match(clean.out, /audit:privacy: PASSED: no violation/);
      assert.equal(authApi.callsTo("POST", /accounts:lookup$/).length, 1);

      const { db, bucket } = await admin();
      await db.doc("quotas/ghost").set({ n: 1 });
      await bucket.file("exports/alice.zip").save(Buffer.from("x"), { resumable: false });
      const dirty = await run();
      assert.equal(dirty.code, 1, dirty.out);
      assert.match(dirty.out, /^ +1 {2}users with data \(documents or objects\) but no Auth account\n +e\.g\. ghost$/m);
      assert.match(dirty.out, /^ +1 {2}objects outside the allowed prefixes \(paths\.ts\)\n +e\.g\. exports\/alice\.zip$/m);
      assert.match(dirty.out, /^ +0 {2}job documents with a field outside the status set/m);
      assert.match(dirty.out, /audit:privacy: FAILED: 2 violation\(s\)/);
      const asked = authApi.callsTo("POST", /accounts:lookup$/).at(-1)!.json.localId as string[];
      assert.deepEqual(asked.sort(), ["alice", "bob", "ghost"]);

      const json = await run(["--json", "--examples", "0"]);
      const report = JSON.parse(json.out.slice(json.out.indexOf("{"), json.out.lastIndexOf("}") + 1));
      assert.equal(report.counts.usersWithoutAccount, 1);
      assert.deepEqual(report.examples.usersWithoutAccount, []);
    } finally {
      delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
      await authApi.close();
    }
  });

  test("the command refuses a half-set emulator environment and skips without a stack or a real project", async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const half = { FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080", FIREBASE_STORAGE_EMULATOR_HOST: "127.0.0.1:9199" };
    assert.equal(await auditCommand({ argv: [], env: half, log }), 2);
    assert.match(lines.join("\n"), /ERROR: FIRESTORE_EMULATOR_HOST, FIREBASE_STORAGE_EMULATOR_HOST set but not FIREBASE_AUTH_EMULATOR_HOST/);
    lines.length = 0;
    assert.equal(await auditCommand({ argv: [], env: {}, log }), 0);
    assert.match(lines.join("\n"), /SKIPPED: no running stack and no real project \("demo-photo-fixer" is a demo project\)/);
    assert.equal(
      await auditCommand({ argv: ["--grace-minutes", "soon"], env: {}, log }).catch((e: Error) => e.message),
      "--grace-minutes must be a number >= 0",
    );
  });
});
