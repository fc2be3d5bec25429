/**
 * The privacy invariants asserted after every job (ARCHITECTURE §4–§5): the job document holds
 * status fields only, nothing of the job is left under transient/, and no log holds face data or
 * the prompt.
 */
import assert from "node:assert/strict";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import { JOB_DOC_FIELDS, jobDocSchema, type JobDoc } from "../../src/jobs/schema.js";
import { capturedLogs } from "./logCapture.js";

/** Distinctive slices of the input that must appear nowhere: base64 windows and the prompt. */
export function secretsOf(input: { base64: string; prompt?: string }): string[] {
  const b64 = input.base64;
  const windows = [0, Math.floor(b64.length / 2), Math.max(0, b64.length - 64)].map((i) => b64.slice(i, i + 48));
  return [...windows.filter((w) => w.length >= 32), ...(input.prompt ? [input.prompt] : [])];
}

export async function assertJobKeepsStatusOnly(jobId: string, secrets: string[] = []): Promise<JobDoc> {
  const snap = await getFirestore().doc(`jobs/${jobId}`).get();
  assert.ok(snap.exists, `job ${jobId} exists`);
  const data = snap.data()!;
  for (const key of Object.keys(data)) assert.ok((JOB_DOC_FIELDS as string[]).includes(key), `job field ${key} is not a status field`);
  const job = jobDocSchema.parse(data);
  const text = JSON.stringify(data);
  assert.doesNotMatch(text, /data:|[a-z][a-z0-9+.-]*:\/\/|base64|X-Goog-Signature/i, "job holds no URL (gs://, https://, ...) or data URL");
  for (const s of secrets) assert.ok(!text.includes(s), "job document holds input data");
  return job;
}

export async function transientObjectsOf(uid: string, jobId?: string): Promise<string[]> {
  const [files] = await getStorage().bucket().getFiles({ prefix: "transient/" });
  return files.map((f) => f.name).filter((name) => name.includes(`/${uid}/`) && (!jobId || name.includes(jobId) || name.includes("/uploads/")));
}

export async function assertNothingLeftFor(uid: string, jobId?: string): Promise<void> {
  assert.deepEqual(await transientObjectsOf(uid, jobId), [], "no transient object is left behind");
}

export function assertLogsClean(secrets: string[]): void {
  const logs = capturedLogs();
  for (const s of secrets) assert.ok(!logs.includes(s), "a log line holds input data or the prompt");
}

/** Every job of a user is in a terminal state (nothing left queued or running). */
export async function assertNoOpenJobs(uid: string): Promise<void> {
  const snap = await getFirestore().collection("jobs").where("uid", "==", uid).get();
  for (const doc of snap.docs) assert.ok(!["queued", "running"].includes(doc.get("status")), `job ${doc.id} left ${doc.get("status")}`);
}
