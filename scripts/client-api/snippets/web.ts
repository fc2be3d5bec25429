// Web (JavaScript/TypeScript, Firebase modular SDK 12; React Native with the JS SDK works the same).
// This file is type-checked with the project (`npm test`), so the calls below match the SDK.
import { initializeApp } from "firebase/app";
import { getToken, initializeAppCheck, ReCaptchaEnterpriseProvider } from "firebase/app-check";
import { getAuth, signInAnonymously } from "firebase/auth";
import { doc, getFirestore, onSnapshot } from "firebase/firestore";
import { FunctionsError, getFunctions, httpsCallable } from "firebase/functions";

const projectId = "your-project-id";
const app = initializeApp({ apiKey: "your-api-key", appId: "your-app-id", projectId });
const appCheck = initializeAppCheck(app, { provider: new ReCaptchaEnterpriseProvider("your-site-key"), isTokenAutoRefreshEnabled: true });
const auth = getAuth(app);
const functions = getFunctions(app, "us-central1");
const db = getFirestore(app);
// Against `npm start`: connectAuthEmulator(auth, "http://127.0.0.1:9099") and
// connectFunctionsEmulator(functions, "127.0.0.1", 5001) (the local Firestore speaks gRPC only:
// poll getJobResult there instead of listening).

const POLICY_VERSION = "2026-11"; // the privacy policy the user agreed to
const ENDED = ["succeeded", "failed", "cancelled", "expired"];

type Job = { jobId: string; status: string; error?: { code: string; message: string } };
type ImageResult = { mimeType: string; base64: string; width: number; height: number };
type VideoResult = { mimeType: string; url: string; urlExpiresAt: string; deleteAt: string };

// createJob costs money, so the function consumes its App Check token (replay protection):
// call it with limited-use tokens. Allow up to 540 s, the function's own timeout.
const createJob = httpsCallable<object, Job & { result?: ImageResult }>(functions, "createJob", {
  limitedUseAppCheckTokens: true,
  timeout: 540_000,
});
const getJobResult = httpsCallable<{ jobId: string }, Job & { progress?: number; result?: VideoResult }>(functions, "getJobResult");
const ackJobResult = httpsCallable<{ jobId: string }, { jobId: string; deleted: true }>(functions, "ackJobResult");

/** createJob, retried with the SAME requestId while the user's quota says "later". */
async function createJobRetryingQuota(request: { requestId: string; [field: string]: unknown }, maxWaitSeconds = 120) {
  for (;;) {
    try {
      return (await createJob(request)).data;
    } catch (error) {
      const quota = error instanceof FunctionsError && error.code === "functions/resource-exhausted";
      const wait = quota ? (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
      if (wait === undefined || wait > maxWaitSeconds) throw error; // show error.message; details.reason says why
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
}

/** An image feature: the result comes back inline, once. */
export async function restyle(photo: Blob): Promise<ImageResult | undefined> {
  if (!auth.currentUser) await signInAnonymously(auth);
  const job = await createJobRetryingQuota({
    requestId: crypto.randomUUID(), // one per new job; reuse it only to retry this job
    feature: "style",
    style: "sketch",
    image: { base64: await toBase64(photo), mimeType: photo.type },
    consent: { faceDataProcessing: true, policyVersion: POLICY_VERSION },
  });
  return job.result;
}

/** A video: createJob answers at once; listen to jobs/{jobId}, then fetch the video and acknowledge it. */
export async function animate(photo: Blob, onProgress: (percent: number) => void): Promise<Blob> {
  const { jobId } = await createJobRetryingQuota({
    requestId: crypto.randomUUID(),
    feature: "video",
    prompt: "a gentle smile",
    image: { uploadId: await uploadImage(photo) }, // or inline base64, as above
    consent: { faceDataProcessing: true, policyVersion: POLICY_VERSION },
  });
  await new Promise<void>((resolve, reject) => {
    // The owner may read (and listen to) its job's status document; it holds no face data.
    const stop = onSnapshot(
      doc(db, "jobs", jobId),
      (snapshot) => {
        const job = snapshot.data();
        if (typeof job?.progress === "number") onProgress(job.progress);
        if (job && ENDED.includes(job.status)) {
          stop();
          resolve();
        }
      },
      reject,
    );
  });
  const { data } = await getJobResult({ jobId });
  if (!data.result) throw new Error(`video job ${data.status}: ${data.error?.message ?? ""}`);
  const video = await (await fetch(data.result.url)).blob(); // a signed URL: no Authorization header
  await ackJobResult({ jobId }); // delete our copy now rather than at data.result.deleteAt
  return video;
}

/** uploadImage is plain HTTPS: the ID token and an App Check token go in headers. */
export async function uploadImage(photo: Blob): Promise<string> {
  const user = auth.currentUser ?? (await signInAnonymously(auth)).user;
  const body = new FormData();
  body.append("file", photo, "photo.jpg"); // exactly one part, named "file"
  const response = await fetch(`https://us-central1-${projectId}.cloudfunctions.net/uploadImage`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await user.getIdToken()}`, "X-Firebase-AppCheck": (await getToken(appCheck)).token },
    body,
  });
  const answer = (await response.json()) as { uploadId?: string; error?: { code: string; message: string; reason: string } };
  if (!response.ok || !answer.uploadId) throw new Error(`${answer.error?.code} (${answer.error?.reason}): ${answer.error?.message}`);
  return answer.uploadId; // use it once, within UPLOAD_TTL_MINUTES
}

/** The privacy rights: know, opt out, delete. */
export async function privacyRights() {
  const exported = (await httpsCallable(functions, "exportMyData")({})).data;
  const choices = (await httpsCallable(functions, "setPrivacyChoices")({ optOutOfSale: true, optOutOfSharing: true })).data;
  const deleted = (await httpsCallable(functions, "deleteMyData", { timeout: 540_000 })({ deleteAccount: true })).data;
  await auth.signOut();
  return { exported, choices, deleted };
}

async function toBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
