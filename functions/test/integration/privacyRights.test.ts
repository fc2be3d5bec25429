/**
 * The rights to know, delete and opt out (issue #6 deliverables 2–5) against the offline Firestore
 * and Storage servers through the real firebase-admin: exportMyData, deleteMyData, onUserDeleted,
 * setPrivacyChoices, Global Privacy Control on other entry points, and the records of requests.
 * The Auth emulator does not run in-process, so deleting the Auth account goes through the
 * `authUserDeleter` dependency (test/support/dependencies.ts) here; the end-to-end test deletes real Auth emulator accounts.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { jobIdFor } from "../../src/jobs/jobId.js";
import type { JobDoc } from "../../src/jobs/schema.js";
import * as state from "../../src/jobs/state.js";
import type { VideoProvider } from "../../src/providers/types.js";
import { PROVIDER_IDS } from "../../src/providers/catalog.js";
import { mapWithConcurrency } from "../../src/util/concurrency.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { testAccounts } from "../support/authAccounts.js";
import { capturedLogs } from "../support/logCapture.js";
import { createJobRequest } from "../support/requests.js";

useBackends();
const db = () => getFirestore();
const bucket = () => getStorage().bucket();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type Exported = import("../../src/privacy/exportData.js").UserDataExport;
type Deleted = import("../../src/privacy/deleteData.js").DeletionResult;
type Choices = import("../../src/privacy/choices.js").PrivacyChoicesResponse;

// ---------------------------------------------------------------------------------------------
// Seeding: a user's data in every location of paths.ts

function jobDoc(uid: string, i: number, extra: Partial<JobDoc> = {}): JobDoc {
  const now = Date.now() - 60_000;
  return {
    ...state.queuedJob({ uid, requestId: `r-${i}`, feature: "style", provider: "local", model: "local-effects-1", now, deadlineMs: 600_000 }),
    ...state.succeededInline(now + 1_000, now + 500),
    ...extra,
  };
}

/** `count` finished image jobs, written in batches; returns their ids. */
async function seedJobs(uid: string, count: number, offset = 0): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => jobIdFor(uid, `r-${offset + i}`));
  for (let start = 0; start < ids.length; start += 400) {
    const batch = db().batch();
    ids.slice(start, start + 400).forEach((id, k) => batch.set(db().doc(`jobs/${id}`), jobDoc(uid, offset + start + k)));
    await batch.commit();
  }
  return ids;
}

/** A video job whose task is still held at `provider` (running, or finished). */
async function seedVideoJob(uid: string, provider: string, taskId: string, status: "running" | "succeeded") {
  const jobId = jobIdFor(uid, `video-${taskId}`);
  const now = Date.now() - 60_000;
  const base = {
    ...state.queuedJob({ uid, requestId: `video-${taskId}`, feature: "video", provider, model: "m", now, deadlineMs: 1_200_000 }),
    ...state.videoStarted(now, taskId),
  };
  await db()
    .doc(`jobs/${jobId}`)
    .set(status === "running" ? base : { ...base, ...state.succeededHeld(now + 1_000, now, now + 1_800_000) });
  return jobId;
}

async function seedObjects(uid: string, perKind: number) {
  const deleteAt = String(Date.now() + 600_000);
  const names: string[] = [];
  for (const kind of ["uploads", "inputs", "results"] as const) {
    for (let i = 0; i < perKind; i++)
      names.push(`transient/${kind}/${uid}/${kind === "uploads" ? "upload" : "job"}${i}${kind === "results" ? "/video.mp4" : ""}`);
  }
  await mapWithConcurrency(names, 16, (name) => {
    const kind = name.split("/")[1] as "uploads" | "inputs" | "results";
    const jobId = kind === "uploads" ? undefined : name.split("/")[3];
    return bucket()
      .file(name)
      .save(Buffer.from("FACE-BYTES-" + name), {
        resumable: false,
        contentType: "image/jpeg",
        metadata: { metadata: { uid, kind, deleteAt, ...(jobId && { jobId }) } },
      });
  });
  return names;
}

async function seedQuota(uid: string) {
  // Opaque to export and deletion: whatever the quota code stores there.
  await db()
    .doc(`quotas/${uid}`)
    .set({
      windowStart: Timestamp.fromMillis(Date.UTC(2026, 10, 29)),
      counts: { style: 3, video: 1 },
      recent: [Timestamp.fromMillis(Date.UTC(2026, 10, 29, 1))],
    });
}

async function userFootprint(uid: string) {
  const { requestSubjectOf } = await import("../../src/privacy/salt.js");
  const [jobs, privacy, quota, records, [objects]] = await Promise.all([
    db().collection("jobs").where("uid", "==", uid).count().get(),
    db().doc(`privacy/${uid}`).get(),
    db().doc(`quotas/${uid}`).get(),
    db().collection("privacyRequests").where("subject", "==", requestSubjectOf(uid)).get(),
    bucket().getFiles({ prefix: "transient/" }),
  ]);
  return {
    jobs: jobs.data().count,
    privacy: privacy.exists,
    quota: quota.exists,
    records: records.docs.map((d) => d.data()),
    objects: objects.map((o) => o.name).filter((n) => n.split("/")[2] === uid).length,
  };
}

/** A video adapter that records which tasks it was asked to cancel or delete. */
function countingVideoProvider(id: string, offers: { cancel: boolean; deleteTask: boolean }) {
  const calls = { cancel: [] as string[], deleteTask: [] as string[] };
  const provider: VideoProvider = {
    id,
    models: { default: "m", allowed: ["m"] },
    start: async () => ({ id: "t", model: "m" }),
    status: async () => ({ state: "running", raw: "RUNNING" }),
    openResult: async () => {
      throw new Error("unused");
    },
    ...(offers.cancel && { cancel: async (op) => void calls.cancel.push(op.id) }),
    ...(offers.deleteTask && { deleteTask: async (op) => void calls.deleteTask.push(op.id) }),
    classify: () => ({ kind: "permanent", message: "x" }),
  };
  return { provider, calls };
}

let restoreAuth: (() => void) | undefined;
const deletedAccounts: string[] = [];
let accountDeletion: (uid: string) => Promise<boolean> = async (uid) => {
  deletedAccounts.push(uid);
  testAccounts.delete(uid); // as Firebase Auth: the account gate finds no user from now on
  return true;
};

/** Installed from inside the tests: src modules that initialise firebase-admin load only after the backends are up. */
let seamInstalled: Promise<void> | undefined;
const fns = () =>
  (seamInstalled ??= import("../support/dependencies.js").then(({ replace }) => {
    restoreAuth = replace("authUserDeleter", (uid) => accountDeletion(uid));
  })).then(() => import("../../src/index.js"));
after(() => restoreAuth?.());

// ---------------------------------------------------------------------------------------------

describe("every privacy callable: authentication, App Check and payload", () => {
  test("unauthenticated, no App Check, malformed payloads: documented codes, nothing touched, nothing recorded", async () => {
    const { exportMyData, deleteMyData, setPrivacyChoices } = await fns();
    await seedJobs("alice", 3);
    for (const fn of [exportMyData, deleteMyData, setPrivacyChoices]) {
      assert.equal((await rejectionOf(callAs(fn, undefined, {}))).code, "unauthenticated");
      assert.equal((await rejectionOf(callAs(fn, "alice", {}, { appCheck: false }))).code, "permission-denied");
      for (const bad of [{ extra: 1 }, "everything", 42, [true]]) {
        const error = await rejectionOf(callAs(fn, "alice", bad));
        assert.equal(error.code, "invalid-argument", JSON.stringify(bad));
        assert.equal((error.details as { reason?: string }).reason, "request-invalid");
      }
    }
    assert.match((await rejectionOf(callAs(deleteMyData, "alice", { deleteAccount: "yes" }))).message, /^deleteAccount: expected boolean/);
    assert.match((await rejectionOf(callAs(setPrivacyChoices, "alice", { optOutOfSale: 1 }))).message, /^optOutOfSale: expected boolean/);
    assert.match((await rejectionOf(callAs(exportMyData, "alice", { all: true }))).message, /^request: unknown field \(/);
    const footprint = await userFootprint("alice");
    assert.equal(footprint.jobs, 3, "nothing was deleted");
    assert.equal(footprint.privacy, false, "nothing was stored");
    assert.deepEqual(footprint.records, [], "a refused call is no request");
    assert.deepEqual(deletedAccounts, []);
  });
});

describe("exportMyData", () => {
  test("everything held about the caller, paged through 1,200 jobs, Timestamps as ISO, objects as metadata only; nobody else's", async () => {
    const { exportMyData, setPrivacyChoices } = await fns();
    const jobIds = await seedJobs("alice", 1_200);
    const videoJob = await seedVideoJob("alice", "runway", "task-a", "succeeded");
    const objects = await seedObjects("alice", 2);
    await seedQuota("alice");
    await callAs(setPrivacyChoices, "alice", { optOutOfSale: true });
    // Bob's data in every location must not appear.
    await seedJobs("bob", 5);
    await seedObjects("bob", 1);
    await seedQuota("bob");
    await callAs(setPrivacyChoices, "bob", { optOutOfSharing: true });

    const exported = await callAs<Exported>(exportMyData, "alice", {});
    assert.equal(exported.uid, "alice");
    assert.match(exported.exportedAt, ISO);

    const jobs = exported.data.jobs!;
    assert.equal(jobs.category, "job-status");
    assert.equal(jobs.items.length, 1_201, "every job, across pages");
    assert.deepEqual(new Set(jobs.items.map((j) => j.id)), new Set([...jobIds, videoJob]));
    for (const job of jobs.items) {
      assert.equal(job.uid, "alice");
      for (const field of ["createdAt", "updatedAt", "finishedAt", "deadlineAt", "retainUntil"]) assert.match(String(job[field]), ISO, `${field} as ISO 8601`);
    }
    assert.match(jobs.retention, /^30 days after the job was created/);

    assert.deepEqual(
      exported.data.privacyChoices!.items.map(({ updatedAt, ...rest }) => (assert.match(String(updatedAt), ISO), rest)),
      [{ id: "alice", optOutOfSale: true, optOutOfSharing: false, gpc: false }],
    );
    assert.deepEqual(exported.data.quotas!.items, [
      { id: "alice", windowStart: "2026-11-29T00:00:00.000Z", counts: { style: 3, video: 1 }, recent: ["2026-11-29T01:00:00.000Z"] },
    ]);

    const held = [...exported.data.uploads!.items, ...exported.data.inputs!.items, ...exported.data.results!.items];
    assert.deepEqual(held.map((o) => o.name).sort(), [...objects].sort());
    for (const o of held) {
      assert.match(String(o.deleteAt), ISO);
      assert.ok(["uploads", "inputs", "results"].includes(String(o.kind)));
      assert.deepEqual(
        Object.keys(o).sort(),
        [...(o.kind === "uploads" ? [] : ["jobId"]), "contentType", "createdAt", "deleteAt", "kind", "name", "size"].sort(),
      );
    }

    const records = exported.data.privacyRequests!;
    assert.equal(records.category, "privacy-request-records");
    assert.deepEqual(
      records.items.map((r) => [r.type, r.channel, r.outcome]),
      [["opt-out", "app", "fulfilled"]],
    );
    assert.match(records.onDelete, /^kept: The law requires/);

    assert.deepEqual(
      exported.categories.map((c) => [c.category, c.held]),
      [
        ["job-status", true],
        ["privacy-choices", true],
        ["privacy-request-records", true],
        ["usage-counters", true],
        ["face-data", true],
      ],
    );
    assert.deepEqual(
      exported.providers.map((p) => p.id),
      PROVIDER_IDS,
    );
    for (const p of exported.providers) {
      assert.ok(p.retention.length > 20, `${p.id} retention`);
      assert.equal(p.enabledNow, p.id === "local", `${p.id}: only local is enabled by the default config`);
    }
    assert.deepEqual(exported.providers.find((p) => p.id === "kling")!.serves, ["images", "video"]);
    assert.deepEqual(exported.providers.find((p) => p.id === "runway")!.source, ["shared/providers/runway.md"]);

    const text = JSON.stringify(exported);
    assert.ok(!text.includes("bob"), "nothing of another user");
    assert.ok(!text.includes("FACE-BYTES"), "no object bytes");
    assert.doesNotMatch(text, /https?:\/\/|X-Goog-Signature|base64/i, "no URL of any kind");
    assert.ok(!capturedLogs().includes("alice"), "logs carry counts, not the uid");
  });

  test("a user with nothing held gets empty locations; each export is recorded as a 'know' request, without the uid", async () => {
    const { exportMyData } = await fns();
    const first = await callAs<Exported>(exportMyData, "carol", null);
    for (const [id, location] of Object.entries(first.data)) assert.deepEqual(location.items, [], id);
    assert.ok(first.categories.every((c) => !c.held));
    const second = await callAs<Exported>(exportMyData, "carol", undefined);
    const [record] = second.data.privacyRequests!.items;
    assert.deepEqual([record?.type, record?.channel, record?.outcome], ["know", "app", "fulfilled"]);
    assert.match(String(record?.requestedAt), ISO);
    assert.match(String(record?.expireAt), /^20\d\d-/);
    assert.equal(new Date(String(record?.expireAt)).getUTCFullYear() - new Date(String(record?.requestedAt)).getUTCFullYear(), 2, "kept 24 months");
    const stored = (await db().collection("privacyRequests").get()).docs.map((d) => d.data());
    assert.equal(stored.length, 2);
    assert.ok(!JSON.stringify(stored).includes("carol"), "records never hold the uid");
  });
});

describe("deleteMyData and onUserDeleted", () => {
  test("2,000+ jobs, every transient prefix, privacy and quota documents, provider copies; other users untouched; records kept", async () => {
    const { deleteMyData, setPrivacyChoices } = await fns();
    const { overrideProvider } = await import("../support/dependencies.js");
    const runway = countingVideoProvider("runway", { cancel: true, deleteTask: true });
    const kling = countingVideoProvider("kling", { cancel: false, deleteTask: false });
    overrideProvider("video:runway", runway.provider);
    overrideProvider("video:kling", kling.provider);
    try {
      await seedJobs("dave", 2_000);
      await seedVideoJob("dave", "runway", "runway-running", "running");
      await seedVideoJob("dave", "runway", "runway-done", "succeeded");
      await seedVideoJob("dave", "kling", "kling-done", "succeeded");
      await seedObjects("dave", 40);
      await seedQuota("dave");
      await callAs(setPrivacyChoices, "dave", { optOutOfSharing: true });
      await seedJobs("erin", 30);
      await seedVideoJob("erin", "runway", "erin-task", "running");
      await seedObjects("erin", 3);
      await seedQuota("erin");
      await callAs(setPrivacyChoices, "erin", { optOutOfSale: true });
      const erinBefore = await userFootprint("erin");

      const started = Date.now();
      const result = await callAs<Deleted>(deleteMyData, "dave", {});
      const elapsed = Date.now() - started;
      assert.deepEqual(result.deleted, { jobs: 2_003, privacyChoices: 1, quotas: 1, privacyRequests: 0, uploads: 40, inputs: 40, results: 40 });
      assert.deepEqual(
        result.kept.map((k) => k.id),
        ["privacyRequests"],
      );
      assert.deepEqual(result.providerCopies, { deleted: 2, notPossible: 1, failed: 0 });
      assert.deepEqual(runway.calls, { cancel: ["runway-running"], deleteTask: ["runway-done"] }, "a running task is cancelled, a finished one deleted");
      assert.equal(result.accountDeleted, false);
      assert.deepEqual(deletedAccounts, [], "the account stays unless asked");
      console.log(`# deleteMyData: 2,003 jobs + 120 objects + 2 documents in ${elapsed} ms`);

      const dave = await userFootprint("dave");
      assert.deepEqual({ ...dave, records: undefined }, { jobs: 0, privacy: false, quota: false, objects: 0, records: undefined });
      assert.deepEqual(
        dave.records.map((r) => [r.type, r.channel, r.outcome]).sort(),
        [
          ["delete", "app", "fulfilled"],
          ["opt-out", "app", "fulfilled"],
        ],
        "the records survive the deletion they record",
      );
      assert.deepEqual(await userFootprint("erin"), erinBefore, "another user's data is untouched");
      assert.ok(!runway.calls.cancel.includes("erin-task"));
      assert.ok(!capturedLogs().includes("dave"), "logs carry counts, not the uid");

      // Idempotent: nothing left, nothing deleted, still answered (and recorded).
      const again = await callAs<Deleted>(deleteMyData, "dave", null);
      assert.deepEqual(again.deleted, { jobs: 0, privacyChoices: 0, quotas: 0, privacyRequests: 0, uploads: 0, inputs: 0, results: 0 });
      assert.deepEqual(again.providerCopies, { deleted: 0, notPossible: 0, failed: 0 });
      assert.equal((await userFootprint("dave")).records.filter((r) => r.type === "delete").length, 2);
    } finally {
      overrideProvider("video:runway", undefined);
      overrideProvider("video:kling", undefined);
    }
  });

  test("more objects under one prefix than one listing page (1,100): export lists them all, deletion removes them all", async () => {
    const { exportMyData, deleteMyData } = await fns();
    const deleteAt = String(Date.now() + 600_000);
    const names = Array.from({ length: 1_100 }, (_, i) => `transient/uploads/many/up${String(i).padStart(5, "0")}`);
    await mapWithConcurrency(names, 32, (name) =>
      bucket()
        .file(name)
        .save(Buffer.from("x"), { resumable: false, metadata: { metadata: { uid: "many", kind: "uploads", deleteAt } } }),
    );
    await bucket().file("transient/uploads/many-other/up").save(Buffer.from("x"), { resumable: false }); // a uid that merely starts the same
    const exported = await callAs<Exported>(exportMyData, "many", {});
    assert.equal(exported.data.uploads!.items.length, 1_100);
    const result = await callAs<Deleted>(deleteMyData, "many", {});
    assert.equal(result.deleted.uploads, 1_100);
    const [left] = await bucket().getFiles({ prefix: "transient/uploads/" });
    assert.deepEqual(
      left.map((f) => f.name),
      ["transient/uploads/many-other/up"],
    );
  });

  test("a provider that fails to delete is counted and logged, and the rest of the deletion goes on", async () => {
    const { deleteMyData } = await fns();
    const { overrideProvider } = await import("../support/dependencies.js");
    const failing = countingVideoProvider("seedance", { cancel: true, deleteTask: true });
    failing.provider.deleteTask = async () => {
      throw Object.assign(new Error("Ark said no, with https://ark.example/secret?token=abc"), { code: "ECONNRESET" });
    };
    overrideProvider("video:seedance", failing.provider);
    try {
      await seedVideoJob("frank", "seedance", "sd-1", "succeeded");
      const result = await callAs<Deleted>(deleteMyData, "frank", {});
      assert.equal(result.deleted.jobs, 1);
      assert.deepEqual(result.providerCopies, { deleted: 0, notPossible: 0, failed: 1 });
      assert.match(capturedLogs(), /could not delete a provider's copy/);
      assert.ok(!capturedLogs().includes("ark.example"), "the provider's error text is not logged");
    } finally {
      overrideProvider("video:seedance", undefined);
    }
  });

  test("deleteAccount: true also deletes the Auth account (once: a retry with the same token is refused as account-deleted); a failure is recorded", async () => {
    const { deleteMyData } = await fns();
    await seedJobs("gina", 2);
    deletedAccounts.length = 0;
    const first = await callAs<Deleted>(deleteMyData, "gina", { deleteAccount: true });
    assert.equal(first.accountDeleted, true);
    assert.equal(first.deleted.jobs, 2);
    assert.deepEqual(deletedAccounts, ["gina"]);
    // The ID token outlives the account by up to an hour: a retry is told the deletion happened.
    const retried = await rejectionOf(callAs(deleteMyData, "gina", { deleteAccount: true }));
    assert.deepEqual([retried.code, (retried.details as { reason?: string }).reason], ["unauthenticated", "account-deleted"]);

    const saved = accountDeletion;
    accountDeletion = async () => false; // the account went meanwhile (the console, another device)
    try {
      assert.equal((await callAs<Deleted>(deleteMyData, "gene", { deleteAccount: true })).accountDeleted, false);
      accountDeletion = async () => {
        throw new Error("auth backend down");
      };
      const error = await rejectionOf(callAs(deleteMyData, "gene", { deleteAccount: true }));
      assert.equal(error.code, "internal");
    } finally {
      accountDeletion = saved;
    }
    const outcomes = async (uid: string) =>
      (await userFootprint(uid)).records.map((r) => `${r.type}:${r.outcome}${r.failureCode ? `:${r.failureCode}` : ""}`).sort();
    assert.deepEqual(await outcomes("gina"), ["delete:fulfilled"], "a refused retry is no request");
    assert.deepEqual(await outcomes("gene"), ["delete:failed:internal", "delete:fulfilled"]);
  });

  test("onUserDeleted runs the same deletion when the Auth account goes; a second event finds nothing and records nothing", async () => {
    const { onUserDeleted } = await fns();
    const { setPrivacyChoices } = await fns();
    await seedJobs("hank", 600);
    await seedObjects("hank", 2);
    await seedQuota("hank");
    await callAs(setPrivacyChoices, "hank", { optOutOfSale: true });
    await seedJobs("ivy", 3);

    const run = (uid: string) =>
      (onUserDeleted as unknown as { run: (user: unknown, context: unknown) => Promise<unknown> }).run(
        { uid },
        { eventType: "providers/firebase.auth/eventTypes/user.delete" },
      );
    await run("hank");
    const hank = await userFootprint("hank");
    assert.deepEqual([hank.jobs, hank.privacy, hank.quota, hank.objects], [0, false, false, 0]);
    assert.deepEqual(hank.records.map((r) => `${r.type}:${r.channel}`).sort(), ["delete:account-deletion", "opt-out:app"]);
    await run("hank"); // retried delivery, or the event after deleteMyData({ deleteAccount: true })
    assert.equal((await userFootprint("hank")).records.length, 2, "nothing held, nothing recorded twice");
    assert.equal((await userFootprint("ivy")).jobs, 3);
  });
});

describe("setPrivacyChoices and Global Privacy Control", () => {
  test("choices are stored, merged, read back, and recorded; {} only reads", async () => {
    const { setPrivacyChoices } = await fns();
    assert.deepEqual(await callAs<Choices>(setPrivacyChoices, "jack", {}), { optOutOfSale: false, optOutOfSharing: false, gpc: false });
    assert.equal((await db().doc("privacy/jack").get()).exists, false, "reading back writes nothing");

    const sale = await callAs<Choices>(setPrivacyChoices, "jack", { optOutOfSale: true });
    assert.deepEqual({ ...sale, updatedAt: undefined }, { optOutOfSale: true, optOutOfSharing: false, gpc: false, updatedAt: undefined });
    assert.match(String(sale.updatedAt), ISO);
    const both = await callAs<Choices>(setPrivacyChoices, "jack", { optOutOfSharing: true });
    assert.deepEqual([both.optOutOfSale, both.optOutOfSharing], [true, true], "fields not sent keep their value");
    const stored = (await db().doc("privacy/jack").get()).data()!;
    assert.deepEqual(Object.keys(stored).sort(), ["gpc", "optOutOfSale", "optOutOfSharing", "updatedAt"], "the document the app reads holds the choices only");
    const withdrawn = await callAs<Choices>(setPrivacyChoices, "jack", { optOutOfSale: false });
    assert.deepEqual([withdrawn.optOutOfSale, withdrawn.optOutOfSharing], [false, true]);
    assert.deepEqual(await callAs<Choices>(setPrivacyChoices, "jack", {}), withdrawn);

    const { getPrivacyChoices } = await import("../../src/privacy/choices.js");
    const { mayShareUsageData } = await import("../../src/privacy/usageSharing.js");
    assert.equal(mayShareUsageData(await getPrivacyChoices("jack")), false, "the backend shares nothing");
    assert.equal(mayShareUsageData(await getPrivacyChoices("jack"), ["a-vendor"]), false, "not for someone opted out of sharing, even with a recipient");

    const records = (await userFootprint("jack")).records.map((r) => `${r.type}:${r.channel}:${r.outcome}`).sort();
    assert.deepEqual(records, ["opt-in:app:fulfilled", "opt-out:app:fulfilled", "opt-out:app:fulfilled"]);
  });

  test("Sec-GPC: 1 or gpc: true opts out of both, over the same request's wish", async () => {
    const { setPrivacyChoices } = await fns();
    const viaHeader = await callAs<Choices>(setPrivacyChoices, "kate", { optOutOfSale: false }, { headers: { "Sec-GPC": "1" } });
    assert.deepEqual([viaHeader.optOutOfSale, viaHeader.optOutOfSharing, viaHeader.gpc], [true, true, true]);
    const viaFlag = await callAs<Choices>(setPrivacyChoices, "lena", { gpc: true, optOutOfSharing: false });
    assert.deepEqual([viaFlag.optOutOfSale, viaFlag.optOutOfSharing, viaFlag.gpc], [true, true, true]);
    assert.deepEqual(
      (await userFootprint("kate")).records.map((r) => `${r.type}:${r.channel}`),
      ["opt-out:gpc-signal"],
    );
    assert.deepEqual(
      (await userFootprint("lena")).records.map((r) => `${r.type}:${r.channel}`),
      ["opt-out:app"],
    );
    const { mayShareUsageData } = await import("../../src/privacy/usageSharing.js");
    const { getPrivacyChoices } = await import("../../src/privacy/choices.js");
    assert.equal(mayShareUsageData(await getPrivacyChoices("kate"), ["a-vendor"]), false);
  });

  test("after a Sec-GPC opt-out, an opt-in sent without the signal is honoured and stores gpc: false (the truth); the signal opts out again", async () => {
    const { setPrivacyChoices, getJobResult } = await fns();
    const gpc = { headers: { "Sec-GPC": "1" } };
    await rejectionOf(callAs(getJobResult, "gpc-then-in", { jobId: "nope" }, gpc));
    const optIn = await callAs<Choices>(setPrivacyChoices, "gpc-then-in", { optOutOfSale: false, optOutOfSharing: false });
    assert.deepEqual([optIn.optOutOfSale, optIn.optOutOfSharing, optIn.gpc], [false, false, false]);
    const stored = (await db().doc("privacy/gpc-then-in").get()).data()!;
    assert.deepEqual(
      [stored.optOutOfSale, stored.optOutOfSharing, stored.gpc],
      [false, false, false],
      "the stored flag says the last request carried no signal",
    );
    assert.deepEqual(await callAs<Choices>(setPrivacyChoices, "gpc-then-in", {}), optIn, "{} only reads");
    const again = await callAs<Choices>(setPrivacyChoices, "gpc-then-in", { optOutOfSale: false }, gpc);
    assert.deepEqual([again.optOutOfSale, again.optOutOfSharing, again.gpc], [true, true, true]);
    const records = (await userFootprint("gpc-then-in")).records.map((r) => `${r.type}:${r.channel}`).sort();
    assert.deepEqual(records, ["opt-in:app", "opt-out:gpc-signal", "opt-out:gpc-signal"]);
  });

  test("Sec-GPC on other callables: an opt-out, written and recorded only when it changes something; without it, no write", async () => {
    const { createJob, getJobResult } = await fns();
    const plain = await callAs<{ jobId: string; status: string }>(createJob, "mike", await createJobRequest());
    assert.equal(plain.status, "succeeded");
    assert.equal((await db().doc("privacy/mike").get()).exists, false, "no GPC: the job path writes no privacy document");

    const gpc = { headers: { "Sec-GPC": "1" } };
    const res = await callAs<{ status: string }>(createJob, "mike", await createJobRequest(), gpc);
    assert.equal(res.status, "succeeded", "the signal never changes the job's outcome");
    const first = await db().doc("privacy/mike").get();
    assert.deepEqual({ ...first.data(), updatedAt: undefined }, { optOutOfSale: true, optOutOfSharing: true, gpc: true, updatedAt: undefined });

    await callAs(createJob, "mike", await createJobRequest(), gpc);
    await callAs(getJobResult, "mike", { jobId: plain.jobId }, gpc).catch(() => undefined);
    const later = await db().doc("privacy/mike").get();
    assert.equal(later.updateTime!.toMillis(), first.updateTime!.toMillis(), "already opted out: no further write");
    assert.deepEqual(
      (await userFootprint("mike")).records.map((r) => `${r.type}:${r.channel}`),
      ["opt-out:gpc-signal"],
      "recorded once",
    );

    // A signal on a refused call still counts (the user is known); an unauthenticated one cannot.
    await rejectionOf(callAs(getJobResult, "nina", { jobId: "nope" }, gpc));
    assert.equal((await db().doc("privacy/nina").get()).get("optOutOfSale"), true);
    await rejectionOf(callAs(getJobResult, undefined, { jobId: "nope" }, gpc));
  });

  test("Sec-GPC on uploadImage is honoured the same way", async () => {
    const { createUploadHandler } = await import("../../src/triggers/https/uploadHandler.js");
    const handleUpload = createUploadHandler({ verifyIdToken: async (t) => ({ uid: t.replace(/^test:/, "") }), verifyAppCheck: async () => undefined });
    const http = await import("node:http");
    const server = http.createServer((req, res) => void handleUpload(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as import("node:net").AddressInfo;
      const body = new FormData();
      const { makeFaceImage } = await import("../fixtures/images.js");
      body.append("file", new Blob([new Uint8Array(await makeFaceImage({ width: 64, height: 64, format: "jpeg" }))], { type: "image/jpeg" }), "p.jpg");
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { Authorization: "Bearer test:olga", "X-Firebase-AppCheck": "any (the test verifier accepts it)", "Sec-GPC": "1" },
        body,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        { ...(await db().doc("privacy/olga").get()).data(), updatedAt: undefined },
        { optOutOfSale: true, optOutOfSharing: true, gpc: true, updatedAt: undefined },
      );
      assert.deepEqual(
        (await userFootprint("olga")).records.map((r) => `${r.type}:${r.channel}`),
        ["opt-out:gpc-signal"],
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
