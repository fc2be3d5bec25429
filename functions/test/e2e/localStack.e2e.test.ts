/**
 * End to end, as a newcomer and the mobile app see it: `npm start`'s script brings up the local
 * stack; a Firebase JS client signed in anonymously calls the callables through the Functions
 * emulator (Node 22) and gets a transformed face back; the job document keeps status only, nothing
 * is left under transient/, no log holds the photo or the prompt; SIGTERM leaves no process behind.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { deleteApp, getApps, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { emulatorClient, type EmulatorClient } from "../../../local/client.js";
import { jobDocSchema, JOB_DOC_FIELDS } from "../../src/jobs/schema.js";
import { startNpmStart, type RunningStart } from "../support/npmStart.js";
import { secretsOf } from "../support/privacy.js";
import { CONSENT, faceImage } from "../support/requests.js";

type Created = { jobId: string; status: string; result?: { mimeType: string; base64: string; width: number; height: number } };

describe("npm start: the local stack end to end", { timeout: 240_000 }, () => {
  let start: RunningStart;
  let output = "";
  let env: Record<string, string> = {};
  let client: EmulatorClient;

  before(async () => {
    start = await startNpmStart();
    env = start.env;
    output = start.output();
    initializeApp({ projectId: env.GCLOUD_PROJECT, storageBucket: `${env.GCLOUD_PROJECT}.appspot.com` });
    client = await emulatorClient(start.clientOptions);
  });

  after(async () => {
    await client?.close();
    await Promise.all(getApps().map((a) => deleteApp(a)));
    await start?.stop();
  });

  test("it says what runs where, runs functions on Node 22, and seeds config/runtime with the local provider", async () => {
    for (const service of ["Firestore", "Storage", "Auth", "Functions", "Cloud Tasks"]) assert.match(output, new RegExp(`│ ${service}\\s`));
    assert.match(output, /offline replacement/);
    assert.match(output, /Web console: http:\/\/127\.0\.0\.1:\d+\//, "the demo page's address is printed");
    assert.match(output, /Using node@22 from host/, "the Functions emulator runs the functions on Node 22");
    const config = (await getFirestore().doc("config/runtime").get()).data();
    assert.deepEqual(config?.enabledProviders, ["local"]);
    assert.equal(config?.defaults?.style?.provider, "local");
  });

  test("an anonymous client sends a face to createJob and gets a transformed image back", async () => {
    const image = await faceImage("jpeg", 384);
    const prompt = "make it warmer and brighter";
    const res = await client.call<Created>("createJob", { requestId: randomUUID(), feature: "edit", prompt, image, consent: CONSENT });
    assert.equal(res.status, "succeeded");
    assert.equal(res.result?.mimeType, "image/jpeg");
    assert.notEqual(res.result?.base64, image.base64);

    const snap = await getFirestore().doc(`jobs/${res.jobId}`).get();
    const job = jobDocSchema.parse(snap.data());
    assert.equal(job.status, "succeeded");
    assert.equal(job.uid, client.uid);
    assert.equal(job.inputDeleted, true);
    for (const key of Object.keys(snap.data()!)) assert.ok((JOB_DOC_FIELDS as string[]).includes(key));
    const [objects] = await getStorage().bucket().getFiles({ prefix: "transient/" });
    assert.deepEqual(
      objects.map((o) => o.name),
      [],
      "nothing remains under transient/",
    );
    const secrets = secretsOf({ base64: image.base64, prompt });
    for (const s of secrets)
      assert.ok(!start.output().includes(s) && !JSON.stringify(snap.data()).includes(s), "the photo or prompt leaked into logs or the job");
  });

  test("video with the local provider runs through the Cloud Tasks emulator: progress, a playable MP4 by URL, deleted on ack", async () => {
    const res = await client.call<Created>("createJob", { requestId: randomUUID(), feature: "video", image: await faceImage("jpeg", 384), consent: CONSENT });
    assert.equal(res.status, "running");
    let answer: { status: string; result?: { url: string; mimeType: string } } = { status: "running" };
    for (const started = Date.now(); answer.status !== "succeeded" && Date.now() - started < 120_000;) {
      await new Promise((r) => setTimeout(r, 1000));
      answer = await client.call("getJobResult", { jobId: res.jobId });
      assert.ok(["queued", "running", "succeeded"].includes(answer.status), `unexpected ${JSON.stringify(answer)}`);
    }
    assert.equal(answer.status, "succeeded");
    const video = Buffer.from(await (await fetch(answer.result!.url)).arrayBuffer());
    assert.equal(video.subarray(4, 8).toString("latin1"), "ftyp", "an MP4");
    const job = jobDocSchema.parse((await getFirestore().doc(`jobs/${res.jobId}`).get()).data());
    assert.equal(job.inputDeleted, true);
    assert.ok((job.attempts ?? 0) >= 1, "polled through the task queue");
    assert.deepEqual(await client.call("ackJobResult", { jobId: res.jobId }), { jobId: res.jobId, deleted: true });
    const [objects] = await getStorage().bucket().getFiles({ prefix: "transient/" });
    assert.deepEqual(
      objects.map((o) => o.name),
      [],
      "nothing remains under transient/ after the ack",
    );
  });

  test("errors arrive as the documented codes over the wire", async () => {
    const anonymous = await emulatorClient({ ...start.clientOptions, signIn: false });
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: { code: string; message: string }) => `${e.code}: ${e.message}`,
      );
    try {
      const request = { requestId: randomUUID(), feature: "style", style: "noir", image: await faceImage("png", 128), consent: CONSENT };
      assert.match(await codeOf(anonymous.call("createJob", request)), /^functions\/unauthenticated/);
      assert.match(await codeOf(client.call("createJob", { ...request, feature: "paint" })), /^functions\/invalid-argument: feature/);
      assert.match(await codeOf(client.call("createJob", { ...request, consent: undefined })), /^functions\/failed-precondition: consent/);
      const bomb = { base64: (await import("../fixtures/images.js")).makeBombPng().toString("base64"), mimeType: "image/png" };
      assert.match(await codeOf(client.call("createJob", { ...request, image: bomb })), /^functions\/invalid-argument: image.*pixels/);

      const mine = await client.call<Created>("createJob", request);
      const retried = await client.call<Created>("createJob", request);
      assert.equal(retried.jobId, mine.jobId, "a retried request returns the same job");
      const intruder = await emulatorClient(start.clientOptions);
      try {
        for (const fn of ["getJobResult", "ackJobResult", "cancelJob"]) {
          assert.match(await codeOf(intruder.call(fn, { jobId: mine.jobId })), /^functions\/permission-denied/);
        }
      } finally {
        await intruder.close();
      }
      assert.match(await codeOf(client.call("getJobResult", { jobId: mine.jobId })), /^functions\/not-found/);
      assert.deepEqual(await client.call("cancelJob", { jobId: mine.jobId }), { jobId: mine.jobId, status: "succeeded" });
    } finally {
      await anonymous.close();
    }
  });

  test("privacy rights over the wire: export, choices with Sec-GPC, deletion with the account; the Auth emulator's deletion fires onUserDeleted", async () => {
    const { getAuth } = await import("firebase-admin/auth");
    const { requestSubjectOf } = await import("../../src/privacy/salt.js");
    const project = env.GCLOUD_PROJECT!;
    const signUp = async () => {
      const res = await fetch(`http://${env.FIREBASE_AUTH_EMULATOR_HOST}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ returnSecureToken: true }),
      });
      return (await res.json()) as { idToken: string; localId: string };
    };
    // The callable protocol by hand, to send a header the client SDK does not.
    const callRaw = async (name: string, idToken: string, data: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${env.FUNCTIONS_EMULATOR_ORIGIN}/${project}/us-central1/${name}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${idToken}`, ...headers },
        body: JSON.stringify({ data }),
      });
      return (await res.json()) as { result?: Record<string, unknown>; error?: { status: string; message: string; details?: { reason?: string } } };
    };
    const jobsOf = async (uid: string) => (await getFirestore().collection("jobs").where("uid", "==", uid).get()).size;
    const recordsOf = async (uid: string) =>
      (await getFirestore().collection("privacyRequests").where("subject", "==", requestSubjectOf(uid)).get()).docs
        .map((d) => `${d.get("type")}:${d.get("channel")}:${d.get("outcome")}`)
        .sort();
    // onUserDeleted runs asynchronously after each account deletion, for as long as the Functions
    // emulator takes (a cold worker on a busy machine: many seconds). Its runs are counted in the
    // emulator's own "Finished" lines, so a check waits for the very run it depends on.
    const onUserDeletedRuns = () => start.output().split('Finished "us-central1-onUserDeleted"').length - 1;
    let accountsDeleted = onUserDeletedRuns();
    const untilOnUserDeletedRan = async () => {
      accountsDeleted++;
      for (const started = Date.now(); onUserDeletedRuns() < accountsDeleted; await new Promise((r) => setTimeout(r, 250)))
        assert.ok(Date.now() - started < 120_000, `onUserDeleted did not finish its run #${accountsDeleted} in 120 s`);
    };

    // Right to know, through the Firebase client SDK.
    const user = await emulatorClient(start.clientOptions);
    try {
      const { jobId } = await user.call<Created>("createJob", {
        requestId: randomUUID(),
        feature: "style",
        style: "sepia",
        image: await faceImage("jpeg", 256),
        consent: CONSENT,
      });
      const exported = await user.call<{ uid: string; data: Record<string, { items: { id?: string }[] }>; providers: { id: string }[] }>("exportMyData", {});
      assert.equal(exported.uid, user.uid);
      assert.deepEqual(
        exported.data.jobs!.items.map((j) => j.id),
        [jobId],
      );
      assert.ok(exported.providers.some((p) => p.id === "local"));
      assert.doesNotMatch(JSON.stringify(exported), /https?:\/\//, "no URL in the export");

      // Right to delete, with the account: gone from the Auth emulator too.
      const deleted = await user.call<{ deleted: Record<string, number>; accountDeleted: boolean }>("deleteMyData", { deleteAccount: true });
      assert.equal(deleted.accountDeleted, true);
      assert.equal(deleted.deleted.jobs, 1);
      await untilOnUserDeletedRan();
      await assert.rejects(getAuth().getUser(user.uid!), /no user record|user-not-found/i);
      assert.equal(await jobsOf(user.uid!), 0);
      assert.deepEqual(await recordsOf(user.uid!), ["delete:app:fulfilled", "know:app:fulfilled"]);
    } finally {
      await user.close();
    }

    // Opt-out by Global Privacy Control: the header reaches the function through the emulator.
    const gpcUser = await signUp();
    const choices = await callRaw("setPrivacyChoices", gpcUser.idToken, { optOutOfSale: false }, { "Sec-GPC": "1" });
    assert.deepEqual({ ...choices.result, updatedAt: undefined }, { optOutOfSale: true, optOutOfSharing: true, gpc: true, updatedAt: undefined });
    assert.equal((await getFirestore().doc(`privacy/${gpcUser.localId}`).get()).get("gpc"), true);
    assert.equal((await callRaw("setPrivacyChoices", gpcUser.idToken, { optOutOfSale: "yes" })).error?.status, "INVALID_ARGUMENT");

    // A deleted account's ID token stays valid for up to an hour: it is refused and writes nothing.
    const gone = await signUp();
    const styleJob = async () => ({ requestId: randomUUID(), feature: "style", style: "noir", image: await faceImage("png", 128), consent: CONSENT });
    assert.equal((await callRaw("createJob", gone.idToken, await styleJob())).result?.status, "succeeded");
    assert.equal((await callRaw("deleteMyData", gone.idToken, { deleteAccount: true })).result?.accountDeleted, true);
    // First the trigger's own sweep, so that it cannot clean up after the refused calls below.
    await untilOnUserDeletedRan();
    for (const [name, data] of [
      ["createJob", await styleJob()],
      ["setPrivacyChoices", { optOutOfSale: true }],
      ["exportMyData", {}],
      ["deleteMyData", {}],
    ] as const) {
      const refused = await callRaw(name, gone.idToken, data, { "Sec-GPC": "1" });
      assert.deepEqual([refused.error?.status, refused.error?.details?.reason], ["UNAUTHENTICATED", "account-deleted"], name);
    }
    const form = new FormData();
    form.append("file", new Blob([Buffer.from((await faceImage("jpeg", 128)).base64, "base64")], { type: "image/jpeg" }), "p.jpg");
    const upload = await fetch(`${env.FUNCTIONS_EMULATOR_ORIGIN}/${project}/us-central1/uploadImage`, {
      method: "POST",
      headers: { authorization: `Bearer ${gone.idToken}` },
      body: form,
    });
    assert.deepEqual([upload.status, ((await upload.json()) as { error?: { reason?: string } }).error?.reason], [401, "account-deleted"]);
    for (const path of [`quotas/${gone.localId}`, `privacy/${gone.localId}`]) assert.equal((await getFirestore().doc(path).get()).exists, false, path);
    assert.equal(await jobsOf(gone.localId), 0);
    assert.deepEqual(await recordsOf(gone.localId), ["delete:app:fulfilled"], "refused calls are no requests");

    // An account deleted in the Auth emulator (as in the console): onUserDeleted deletes its data.
    const leaving = await signUp();
    const created = await callRaw("createJob", leaving.idToken, {
      requestId: randomUUID(),
      feature: "style",
      style: "noir",
      image: await faceImage("png", 128),
      consent: CONSENT,
    });
    assert.equal(created.result?.status, "succeeded");
    assert.equal(await jobsOf(leaving.localId), 1);
    await getAuth().deleteUser(leaving.localId);
    await untilOnUserDeletedRan();
    assert.equal(await jobsOf(leaving.localId), 0, "onUserDeleted fired from the Auth emulator and deleted the job");
    assert.equal((await getFirestore().doc(`quotas/${leaving.localId}`).get()).exists, false, "its deletion marker is lifted");
    assert.deepEqual(await recordsOf(leaving.localId), ["delete:account-deletion:fulfilled"]);
  });

  test("SIGTERM stops the whole stack with no process left behind", async () => {
    process.kill(start.pid, "SIGTERM");
    assert.equal(await start.exited, 0);
    const groupAlive = () => {
      try {
        process.kill(-start.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // The group's last processes may still be exiting after the leader: a generous deadline, not a count.
    for (const started = Date.now(); groupAlive() && Date.now() - started < 30_000;) await new Promise((r) => setTimeout(r, 200));
    assert.equal(groupAlive(), false, "a process of the stack's group is still alive 30 s after the stack exited");
    // The firebase CLI runs in a process group of its own: its ports must be closed too.
    for (const url of [env.FUNCTIONS_EMULATOR_ORIGIN!, `http://${env.FIREBASE_AUTH_EMULATOR_HOST}`, `http://${env.FIRESTORE_EMULATOR_HOST}`, start.webUrl]) {
      await assert.rejects(fetch(url, { signal: AbortSignal.timeout(2000) }), `${url} still answers`);
    }
  });
});
