/**
 * A hostile client keeps the ID token of an account that is gone (issue #11 point 2): the token
 * stays valid for up to an hour, so every entry point asks Firebase Auth first (privacy/accountGate.ts)
 * and writes nothing for a deleted or disabled account or a revoked sign-in. Firebase Auth is the
 * in-process model of test/support/authAccounts.ts (the end-to-end test uses the Auth emulator).
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import type { CallableFunction } from "firebase-functions/v2/https";
import { testAccounts } from "../support/authAccounts.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { capturedLogs } from "../support/logCapture.js";
import { createJobRequest } from "../support/requests.js";

useBackends();
const db = () => getFirestore();
const GPC = { "Sec-GPC": "1" };

/** deleteMyData({ deleteAccount: true }) deletes the account in the Auth model. */
let restoreDeleter: (() => void) | undefined;
const fns = async () => {
  restoreDeleter ??= (await import("../support/dependencies.js")).replace("authUserDeleter", async (uid) => {
    testAccounts.delete(uid);
    return true;
  });
  return import("../../src/index.js");
};
after(() => restoreDeleter?.());

async function footprint(uid: string) {
  const { requestSubjectOf } = await import("../../src/privacy/salt.js");
  const [jobs, privacy, quota, records, [objects]] = await Promise.all([
    db().collection("jobs").where("uid", "==", uid).count().get(),
    db().doc(`privacy/${uid}`).get(),
    db().doc(`quotas/${uid}`).get(),
    db().collection("privacyRequests").where("subject", "==", requestSubjectOf(uid)).count().get(),
    getStorage().bucket().getFiles({ prefix: "transient/" }),
  ]);
  return {
    jobs: jobs.data().count,
    privacy: privacy.exists,
    quota: quota.exists,
    records: records.data().count,
    objects: objects.filter((o) => o.name.split("/")[2] === uid).length,
  };
}

/** Every callable, with a request it would act on for `uid`. */
async function everyCall(jobId: string): Promise<[string, CallableFunction<any, any>, unknown][]> {
  const f = await fns();
  return [
    ["createJob", f.createJob, await createJobRequest()],
    ["setPrivacyChoices", f.setPrivacyChoices, { optOutOfSale: true }],
    ["exportMyData", f.exportMyData, {}],
    ["deleteMyData", f.deleteMyData, { deleteAccount: true }],
    ["getJobResult", f.getJobResult, { jobId }],
    ["ackJobResult", f.ackJobResult, { jobId }],
    ["cancelJob", f.cancelJob, { jobId }],
  ];
}

async function uploadAs(uid: string, headers: Record<string, string> = {}) {
  const { createUploadHandler } = await import("../../src/triggers/https/uploadHandler.js");
  const handleUpload = createUploadHandler({
    verifyIdToken: async (t) => ({ uid: t.replace(/^test:/, ""), auth_time: Math.floor(Date.now() / 1000) - 60 }),
    verifyAppCheck: async () => undefined,
  });
  const server = http.createServer((req, res) => void handleUpload(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const body = new FormData();
    const { makeFaceImage } = await import("../fixtures/images.js");
    body.append("file", new Blob([new Uint8Array(await makeFaceImage({ width: 64, height: 64, format: "jpeg" }))], { type: "image/jpeg" }), "p.jpg");
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { Authorization: `Bearer test:${uid}`, "X-Firebase-AppCheck": "any", ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { uploadId?: string; error?: { code: string; reason: string } } };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

describe("the account gate: a token that outlives its account writes nothing", () => {
  test("after deleteMyData({ deleteAccount: true }) and onUserDeleted, the same token is refused by every callable and uploadImage, with or without Sec-GPC; no job, quota, privacy document, record or object appears", async () => {
    const { createJob, deleteMyData, onUserDeleted } = await fns();
    const { jobId } = await callAs<{ jobId: string }>(createJob, "gone", await createJobRequest());
    const deleted = await callAs<{ accountDeleted: boolean; deleted: Record<string, number> }>(deleteMyData, "gone", { deleteAccount: true });
    assert.deepEqual([deleted.accountDeleted, deleted.deleted.jobs, deleted.deleted.quotas], [true, 1, 1]);
    await (onUserDeleted as unknown as { run: (user: unknown, context: unknown) => Promise<unknown> }).run({ uid: "gone" }, {});
    const before = await footprint("gone");
    assert.deepEqual({ ...before, records: 0 }, { jobs: 0, privacy: false, quota: false, records: 0, objects: 0 });

    for (const [name, fn, data] of await everyCall(jobId)) {
      for (const headers of [{}, GPC]) {
        const error = await rejectionOf(callAs(fn, "gone", data, { headers }));
        assert.deepEqual(
          [error.code, (error.details as { reason?: string })?.reason],
          ["unauthenticated", "account-deleted"],
          `${name} ${JSON.stringify(headers)}`,
        );
      }
    }
    for (const headers of [{}, GPC]) {
      const upload = await uploadAs("gone", headers);
      assert.deepEqual([upload.status, upload.body.error?.code, upload.body.error?.reason], [401, "unauthenticated", "account-deleted"]);
    }
    assert.deepEqual(await footprint("gone"), before, "nothing was written for the deleted account");
    assert.match(capturedLogs(), /account-deleted/);
  });

  test("a disabled account and a revoked sign-in are refused the same way; a sign-in after the revocation works", async () => {
    const { createJob, setPrivacyChoices } = await fns();
    testAccounts.disable("off");
    for (const call of [callAs(createJob, "off", await createJobRequest()), callAs(setPrivacyChoices, "off", {}, { headers: GPC })]) {
      const error = await rejectionOf(call);
      assert.deepEqual([error.code, (error.details as { reason?: string }).reason], ["unauthenticated", "account-disabled"]);
    }
    assert.equal((await uploadAs("off")).body.error?.reason, "account-disabled");

    const revokedAt = Date.now();
    testAccounts.revokeTokens("stolen", revokedAt);
    const error = await rejectionOf(callAs(createJob, "stolen", await createJobRequest(), { signedInAt: revokedAt - 60_000, headers: GPC }));
    assert.deepEqual([error.code, (error.details as { reason?: string }).reason], ["unauthenticated", "token-revoked"]);
    assert.equal((await uploadAs("stolen")).body.error?.reason, "token-revoked");
    assert.deepEqual(await footprint("off"), { jobs: 0, privacy: false, quota: false, records: 0, objects: 0 });
    assert.deepEqual(await footprint("stolen"), { jobs: 0, privacy: false, quota: false, records: 0, objects: 0 });

    const fresh = await callAs<{ status: string }>(createJob, "stolen", await createJobRequest(), { signedInAt: revokedAt + 1_000 });
    assert.equal(fresh.status, "succeeded", "a token from a sign-in after the revocation is accepted");
  });

  test("Firebase Auth unreachable: unavailable (account-check-unavailable), nothing written, logged without the error text", async () => {
    const { createJob } = await fns();
    testAccounts.failLookups(Object.assign(new Error("auth down at https://identitytoolkit.example/secret"), { code: "app/network-error" }));
    const error = await rejectionOf(callAs(createJob, "unlucky", await createJobRequest(), { headers: GPC }));
    assert.deepEqual([error.code, (error.details as { reason?: string }).reason], ["unavailable", "account-check-unavailable"]);
    const upload = await uploadAs("unlucky");
    assert.deepEqual([upload.status, upload.body.error?.reason], [503, "account-check-unavailable"]);
    assert.deepEqual(await footprint("unlucky"), { jobs: 0, privacy: false, quota: false, records: 0, objects: 0 });
    assert.match(capturedLogs(), /could not look the caller's account up/);
    assert.ok(!capturedLogs().includes("identitytoolkit.example"));
  });
});
