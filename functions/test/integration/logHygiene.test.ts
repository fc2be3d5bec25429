/**
 * Log hygiene across every entry point (issue #6, item 7): one synthetic face and one recognisable
 * prompt go through every callable (jobs and privacy rights), the upload endpoint, the video poll
 * task and the purge, on happy and unhappy paths, with a provider fake whose URLs and key are
 * known. Then every captured log line, every error a client received, every Firestore document
 * (before and after the user's deletion) and the data export are scanned for the image's base64,
 * the prompt, the signed URL, the provider's URLs, its key and the ID token. Expected hits: zero.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { getFirestore } from "firebase-admin/firestore";
import type { PollTask } from "../../src/jobs/pollQueue.js";
import { ProviderFailure, type VideoProvider } from "../../src/providers/types.js";
import { makeFaceImage } from "../fixtures/images.js";
import { PROJECT_ID, useBackends } from "../support/backends.js";
import { callAs } from "../support/callables.js";
import { FakeServer } from "../support/fakeServer.js";
import { forgedJwt, nestedJson, postCallable, serveCallable } from "../support/callableHttp.js";
import { capturedLogs } from "../support/logCapture.js";
import { secretsOf } from "../support/privacy.js";
import { PROVIDER_SCRIPTS } from "../support/providerScripts.js";
import { CONSENT } from "../support/requests.js";
import { randomUUID } from "node:crypto";

useBackends();
const fns = () => import("../../src/index.js");

const UID = "u-hygiene";
const PROMPT = "make it black and white and sharper, like a CANARY zebra-striped teapot wearing a monocle";
const ID_TOKEN = `test:${UID}`;
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(4000, 7)]);

let api: FakeServer;
let cdn: FakeServer;
let uploadBase = "";
let uploadServer: http.Server;
const bfl = PROVIDER_SCRIPTS.bfl!;

/** Called inside the test: firebase-admin must first see the servers that useBackends starts. */
async function startServers() {
  [api, cdn] = await Promise.all([FakeServer.start(), FakeServer.start()]);
  Object.assign(process.env, bfl.credentials, { [bfl.baseUrlEnv]: api.url, PROVIDER_POLL_INTERVAL_MS: "5" });
  const { uploadImageFunction } = await import("../../src/triggers/https/uploadImage.js");
  const uploadImage = uploadImageFunction({
    verifyIdToken: async (token) => {
      if (token !== ID_TOKEN) throw new Error("invalid token");
      return { uid: UID };
    },
    verifyAppCheck: async () => undefined,
  });
  uploadServer = http.createServer((req, res) => void (uploadImage as unknown as http.RequestListener)(req, res));
  await new Promise<void>((resolve) => uploadServer.listen(0, "127.0.0.1", resolve));
  uploadBase = `http://127.0.0.1:${(uploadServer.address() as AddressInfo).port}`;
}
after(async () => {
  if (!uploadServer) return; // the first test did not run (--test-name-pattern)
  uploadServer.closeAllConnections();
  await new Promise((r) => uploadServer.close(r));
  await api.close();
  await cdn.close();
});

/** What clients were told when something went wrong: messages and details, as sent. */
const clientErrors: string[] = [];
async function call<T>(fn: Parameters<typeof callAs>[0], data: unknown): Promise<T | undefined> {
  try {
    return await callAs<T>(fn, UID, data);
  } catch (error) {
    clientErrors.push(JSON.stringify({ message: (error as Error).message, details: (error as { details?: unknown }).details }));
    return undefined;
  }
}

async function upload(bytes: Uint8Array, type: string, filename: string): Promise<{ uploadId?: string }> {
  const body = new FormData();
  body.append("file", new Blob([bytes], { type }), filename);
  const res = await fetch(`${uploadBase}/`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ID_TOKEN}`, "X-Firebase-AppCheck": "app-check-token" },
    body,
  });
  const json = (await res.json()) as { uploadId?: string };
  if (!res.ok) clientErrors.push(JSON.stringify(json));
  return json;
}

async function allFirestoreDocuments(): Promise<string> {
  const out: string[] = [];
  for (const collection of await getFirestore().listCollections()) {
    for (const doc of (await collection.get()).docs) out.push(JSON.stringify({ path: doc.ref.path, ...doc.data() }));
  }
  return out.join("\n");
}

test("no log line, client error or Firestore document holds the photo, the prompt, URLs or tokens", async () => {
  await startServers();
  const photo = await makeFaceImage({ width: 320, height: 320, format: "jpeg" });
  const image = { base64: photo.toString("base64"), mimeType: "image/jpeg" };
  const request = (overrides: Record<string, unknown> = {}) => ({
    requestId: randomUUID(),
    feature: "edit",
    prompt: PROMPT,
    image,
    consent: CONSENT,
    ...overrides,
  });
  const { createJob, getJobResult, ackJobResult, cancelJob } = await fns();
  await getFirestore()
    .doc("config/runtime")
    .set({ enabledProviders: ["local", "bfl"], defaults: {} });
  (await import("../../src/config/runtimeConfig.js")).clearRuntimeConfigCache();

  // Image jobs: local, a provider whose result comes from a signed CDN URL, and provider faults
  // whose bodies echo the prompt and URLs back.
  assert.ok(await call(createJob, request()), "local edit succeeds");
  const signedCdnPath = `/results/r.jpg?X-Goog-Signature=${"ab".repeat(32)}&X-Goog-Credential=svc`;
  api.on("POST", "/v1/flux-2-pro", { json: { id: "t1", polling_url: `${api.url}/v1/get_result?id=t1` } });
  api.on("GET", "/v1/get_result", { json: { status: "Ready", result: { sample: `${cdn.url}${signedCdnPath}` } } });
  cdn.on("GET", "/results/r.jpg", { body: await makeFaceImage({ width: 300, height: 300, format: "jpeg", background: "#ffcc00" }) });
  assert.ok(await call(createJob, request({ provider: "bfl" })), "bfl edit succeeds");
  api.reset();
  api.on("POST", "/v1/flux-2-pro", { status: 500, json: { detail: `failed for "${PROMPT}" see ${api.url}/debug?key=${Object.values(bfl.credentials)[0]}` } });
  assert.equal(await call(createJob, request({ provider: "bfl" })), undefined);
  api.reset();
  api.on("POST", "/v1/flux-2-pro", { status: 400, json: { detail: `moderation: ${PROMPT}` } });
  assert.equal(await call(createJob, request({ provider: "bfl" })), undefined);
  api.reset();
  api.on("POST", "/v1/flux-2-pro", { json: { id: "t2", polling_url: `${api.url}/v1/get_result?id=t2` } });
  api.on("GET", "/v1/get_result", { json: { status: "Ready", result: { sample: `${cdn.url}/expired.jpg?sig=${"cd".repeat(30)}` } } });
  cdn.on("GET", "/expired.jpg", { status: 403, body: `<Error>expired ${cdn.url}/expired.jpg</Error>` });
  assert.equal(await call(createJob, request({ provider: "bfl" })), undefined);

  // Bad input of every kind, each carrying the prompt.
  await call(createJob, request({ image: { base64: image.base64, mimeType: "image/png" } }));
  await call(createJob, request({ image: { base64: image.base64.slice(0, 4000), mimeType: "image/jpeg" } }));
  await call(createJob, request({ prompt: `${PROMPT}\u0007` }));
  await call(createJob, request({ consent: undefined }));
  await call(createJob, { ...request(), [PROMPT.replaceAll(" ", "_")]: image.base64.slice(0, 200) });
  await call(createJob, request({ style: PROMPT, feature: "style" }));

  // Uploads: a good one consumed by a job, a lying one, one with a telling file name.
  const good = await upload(photo, "image/jpeg", `${PROMPT}.jpg`);
  assert.ok(good.uploadId, `upload accepted: ${clientErrors.at(-1)}`);
  assert.ok(await call(createJob, request({ image: { uploadId: good.uploadId } })));
  await upload(Buffer.from(`<html>${PROMPT}</html>`), "image/jpeg", "x.jpg");
  await upload(photo.subarray(0, 2000), "image/jpeg", `${cdn.url}/photo.jpg`);

  // A video job: started, polled, result held, fetched by signed URL, acknowledged; one cancelled.
  const queue: PollTask[] = [];
  const { setPollEnqueuer } = await import("../support/dependencies.js");
  const { overrideProvider } = await import("../support/dependencies.js");
  setPollEnqueuer(async (task) => void queue.push(task));
  overrideProvider("video:local", videoProviderAt(`${cdn.url}/video.mp4?token=${"ef".repeat(30)}`));
  const { pollVideoJob } = await import("../../src/jobs/videoJob.js");
  let heldUrl: string;
  try {
    const video = await call<{ jobId: string }>(createJob, request({ feature: "video" }));
    assert.ok(video);
    while (queue.length) await pollVideoJob(queue.shift()!);
    const held = await call<{ result: { url: string } }>(getJobResult, { jobId: video.jobId });
    heldUrl = held?.result.url ?? "";
    assert.ok(heldUrl, "the result was held and handed out by URL");
    await call(ackJobResult, { jobId: video.jobId });
    await call(getJobResult, { jobId: video.jobId });
    const second = await call<{ jobId: string }>(createJob, request({ feature: "video" }));
    await call(cancelJob, { jobId: second!.jobId });
    await call(cancelJob, { jobId: "f".repeat(40) });
  } finally {
    setPollEnqueuer(undefined);
    overrideProvider("video:local", undefined);
  }

  // The privacy rights: choices (with GPC), an export taken while objects and jobs exist.
  const { exportMyData, setPrivacyChoices, deleteMyData } = await fns();
  await call(setPrivacyChoices, { optOutOfSale: true, gpc: true });
  await call(setPrivacyChoices, { optOutOfSale: PROMPT });
  await upload(photo, "image/jpeg", "pending.jpg"); // an upload still held, so the export lists an object
  const exported = JSON.stringify(await call(exportMyData, {}));
  assert.match(exported, /uploads/, "the export lists the held upload");

  // The purge, past every deadline.
  const { purgeTransient } = await import("../../src/privacy/purge.js");
  await purgeTransient({ now: Date.now() + 86_400_000 });
  const firestoreBeforeDeletion = await allFirestoreDocuments();
  const deletion = JSON.stringify(await call(deleteMyData, {}));

  const secrets = [
    ...secretsOf({ base64: image.base64, prompt: PROMPT }),
    "zebra-striped teapot",
    api.url.replace("http://", ""),
    cdn.url.replace("http://", ""),
    ...Object.values(bfl.credentials),
    ID_TOKEN,
    heldUrl,
    new URL(heldUrl).search.slice(1) || "no-query",
    "X-Goog-Signature",
  ];
  const places = {
    logs: capturedLogs(),
    "client errors": clientErrors.join("\n"),
    firestore: firestoreBeforeDeletion,
    "firestore after deletion": await allFirestoreDocuments(),
    // Answers to the owner, but about the data, never the data: no face, prompt or URL either.
    "data export": exported,
    "deletion report": deletion,
  };
  assert.ok(places.logs.includes('"severity"'), "logs were captured");
  assert.ok(clientErrors.length >= 10, `client errors were captured (${clientErrors.length})`);
  assert.match(places.firestore, /jobs\//, "job documents were written");
  assert.match(places["firestore after deletion"], /privacyRequests\//, "the records of requests outlive the deletion");
  const hits = Object.entries(places).flatMap(([place, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${place}: ${s.slice(0, 40)}`));
  assert.deepEqual(hits, []);
});

/**
 * Malformed callable requests through the HTTP handler itself (the SDK's checks and decoder sit in
 * front of `.run`): before the guard (triggers/https/rawBodyGuard.ts) the SDK logged an
 * undecodable `@type` object as log fields, a body without `data` whole, extra keys' names and the
 * Content-Type header, and answered 10,000 levels of nesting with a bare 500.
 */
test("malformed callable requests are refused as invalid-argument and nothing of them is logged", async () => {
  const photo = await makeFaceImage({ width: 160, height: 160, format: "jpeg" });
  const base64 = photo.toString("base64");
  const url = "https://canary-bucket.example/transient/u/photo.jpg?X-Goog-Signature=" + "9f".repeat(32);
  const bearer = `Bearer eyJhbGciOiJSUzI1NiJ9.${Buffer.from(`{"sub":"${UID}","canary":"token"}`).toString("base64url")}.c2lnbmF0dXJl`;
  const forged = { "logging.googleapis.com/labels": { "forged-canary": "forged-label-value" }, severity: "EMERGENCY" };
  const tagged = { "@type": "type.googleapis.com/canary.Prompt", prompt: PROMPT, image: { base64, mimeType: "image/jpeg" }, url, token: bearer, ...forged };
  const bodies: [string, unknown, Record<string, string>?][] = [
    ["@type with the payload", { data: tagged }],
    [
      "@type deep inside a request",
      { data: { requestId: randomUUID(), feature: "edit", prompt: "x", image: { base64: "AAAA", mimeType: "image/jpeg", meta: [tagged] } } },
    ],
    ["an Int64 tag whose value is the prompt", { data: { "@type": "type.googleapis.com/google.protobuf.Int64Value", value: PROMPT, url } }],
    ["10,000 levels around the payload", `{"data":${nestedJson(10_000, "object", JSON.stringify({ prompt: PROMPT, url, token: bearer }))}}`],
    ["10,000 levels of arrays", `{"data":${nestedJson(10_000, "array", JSON.stringify(PROMPT))}}`],
    ["no data field", { prompt: PROMPT, image: { base64 }, url, ...forged }],
    ["extra fields", { data: {}, [PROMPT]: base64.slice(0, 200), [url]: 1 }],
    ["a content type carrying a URL", { data: {} }, { "Content-Type": url }],
    // Refused before the SDK checks tokens (which it would otherwise answer first, unauthenticated).
    ["@type with a bearer token sent along", { data: tagged }, { Authorization: bearer }],
  ];
  const secrets = [
    ...secretsOf({ base64, prompt: PROMPT }),
    "zebra-striped teapot",
    "canary-bucket.example",
    bearer.slice(7),
    "forged-canary",
    "forged-label-value",
    "EMERGENCY",
    "canary.Prompt",
  ];
  const logsBefore = capturedLogs().length;
  const answers: string[] = [];
  const wrongAnswers: string[] = [];
  const { createJob, getJobResult, ackJobResult, cancelJob, exportMyData, deleteMyData, setPrivacyChoices } = await fns();
  for (const [name, fn] of Object.entries({ createJob, getJobResult, ackJobResult, cancelJob, exportMyData, deleteMyData, setPrivacyChoices })) {
    const server = await serveCallable(fn);
    try {
      for (const [label, body, headers] of bodies) {
        const answer = await postCallable(server.url, body, headers);
        answers.push(JSON.stringify(answer.json));
        const got = `${answer.status} ${String(answer.json?.error?.status)} ${String(answer.json?.error?.details?.reason)}`;
        if (got !== "400 INVALID_ARGUMENT request-malformed") wrongAnswers.push(`${name}, ${label}: ${got}`);
      }
    } finally {
      await server.close();
    }
  }
  const logs = capturedLogs().slice(logsBefore);
  const places = { logs, answers: answers.join("\n") };
  const hits = Object.entries(places).flatMap(([place, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${place}: ${s.slice(0, 40)}`));
  assert.deepEqual({ wrongAnswers, hits: [...new Set(hits)] }, { wrongAnswers: [], hits: [] });
  assert.match(logs, /request-malformed/, "the refusals were logged, by reason");
});

/**
 * Forged tokens over HTTP. firebase-functions logs firebase-admin's verification error whole, and
 * firebase-admin quotes the claims it checks before the signature (ID token: alg, aud, iss; App
 * Check: alg, aud) and, through JSON.parse, a payload that is not JSON: before the token check
 * (triggers/https/tokenClaimsGuard.ts) each of these put the caller's text in a warning line.
 */
test("forged tokens are refused with the documented code and nothing of them is logged", async () => {
  const url = "https://canary-evil.example/?t=secret-query-value";
  const tokenShaped = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('{"canary":"inner"}').toString("base64url")}.Y2FuYXJ5LXNpZ25hdHVyZQ`;
  const secrets = [PROMPT, "zebra-striped teapot", "canary-evil.example", "secret-query-value", tokenShaped, "Y2FuYXJ5LXNpZ25hdHVyZQ"];
  const issuer = `https://securetoken.google.com/${PROJECT_ID}`;
  // Every token also carries the canaries where firebase-admin never quotes them (kid, sub).
  const idToken = (header: Record<string, unknown>, claims: Record<string, unknown>) =>
    forgedJwt({ alg: "RS256", kid: PROMPT, typ: "JWT", ...header }, { aud: PROJECT_ID, iss: issuer, sub: url, ...claims });
  const appCheck = (header: Record<string, unknown>, claims: Record<string, unknown>) =>
    forgedJwt({ alg: "RS256", kid: tokenShaped, typ: "JWT", ...header }, { aud: [`projects/${PROJECT_ID}`], iss: url, sub: PROMPT, ...claims });
  const idTokens: [string, string][] = [];
  const appChecks: [string, string][] = [];
  for (const [label, text] of [
    ["the prompt", PROMPT],
    ["a URL", url],
    ["a token", tokenShaped],
  ]) {
    idTokens.push([`ID token alg: ${label}`, idToken({ alg: text }, {})]);
    idTokens.push([`ID token aud: ${label}`, idToken({}, { aud: text })]);
    idTokens.push([`ID token aud array: ${label}`, idToken({}, { aud: [PROJECT_ID, text] })]);
    idTokens.push([`ID token iss: ${label}`, idToken({}, { iss: text })]);
    idTokens.push([`ID token payload not JSON: ${label}`, forgedJwt({ alg: "RS256", typ: "JWT" }, text)]);
    idTokens.push([`ID token unsigned: ${label}`, forgedJwt({ alg: "none", typ: "JWT" }, { aud: PROJECT_ID, iss: issuer, sub: text }, "")]);
    appChecks.push([`App Check alg: ${label}`, appCheck({ alg: text }, {})]);
    appChecks.push([`App Check aud: ${label}`, appCheck({}, { aud: [text] })]);
    appChecks.push([`App Check aud string: ${label}`, appCheck({}, { aud: text })]);
    appChecks.push([`App Check payload not JSON: ${label}`, forgedJwt({ alg: "RS256", typ: "JWT" }, text)]);
  }
  const requests: [string, Record<string, string>, string][] = [
    ...idTokens.map(([label, token]): [string, Record<string, string>, string] => [
      label,
      { Authorization: `Bearer ${token}` },
      "401 UNAUTHENTICATED id-token-malformed",
    ]),
    ...appChecks.map(([label, token]): [string, Record<string, string>, string] => [
      label,
      { "X-Firebase-AppCheck": token },
      "403 PERMISSION_DENIED app-check-malformed",
    ]),
    ["a bearer that is the prompt", { Authorization: `Bearer ${PROMPT}` }, "401 UNAUTHENTICATED id-token-malformed"],
    [
      "both forged: the ID token is answered first",
      { Authorization: `Bearer ${idTokens[1]![1]}`, "X-Firebase-AppCheck": appChecks[1]![1] },
      "401 UNAUTHENTICATED id-token-malformed",
    ],
    // Canaries only where firebase-admin never quotes them (iss, kid, sub): the SDK rejects it
    // with a fixed text, and our handler answers the missing sign-in.
    ["App Check with canaries in iss, kid and sub", { "X-Firebase-AppCheck": appCheck({}, {}) }, "401 UNAUTHENTICATED undefined"],
  ];
  const logsBefore = capturedLogs().length;
  const answers: string[] = [];
  const wrongAnswers: string[] = [];
  const { createJob, getJobResult, ackJobResult, cancelJob, exportMyData, deleteMyData, setPrivacyChoices } = await fns();
  for (const [name, fn] of Object.entries({ createJob, getJobResult, ackJobResult, cancelJob, exportMyData, deleteMyData, setPrivacyChoices })) {
    const server = await serveCallable(fn);
    try {
      for (const [label, headers, expected] of requests) {
        const answer = await postCallable(server.url, { data: { jobId: "a".repeat(40) } }, headers);
        answers.push(JSON.stringify(answer.json));
        const got = `${answer.status} ${String(answer.json?.error?.status)} ${String(answer.json?.error?.details?.reason)}`;
        if (got !== expected) wrongAnswers.push(`${name}, ${label}: ${got}`);
      }
    } finally {
      await server.close();
    }
  }
  const logs = capturedLogs().slice(logsBefore);
  const places = { logs, answers: answers.join("\n") };
  const hits = Object.entries(places).flatMap(([place, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${place}: ${s.slice(0, 40)}`));
  assert.deepEqual({ wrongAnswers, hits: [...new Set(hits)] }, { wrongAnswers: [], hits: [] });
  assert.match(logs, /id-token-malformed:aud/, "the refusals were logged, by reason and field");
  assert.match(logs, /app-check-malformed:alg/);
});

/** A video provider whose result is downloaded from a URL carrying a token. */
function videoProviderAt(url: string): VideoProvider {
  cdn.on("GET", "/video.mp4", { body: MP4, headers: { "content-type": "video/mp4" } });
  return {
    id: "local",
    models: { default: "local-kenburns-1", allowed: ["local-kenburns-1"] },
    polling: { firstDelayMs: 5, intervalsMs: [5], deadlineMs: 600_000 },
    async start() {
      return { id: `task-${randomUUID()}`, model: "local-kenburns-1" };
    },
    async status() {
      return { state: "succeeded", raw: "SUCCEEDED", result: { url } };
    },
    async openResult() {
      const res = await fetch(url);
      return { body: res.body!, contentType: "video/mp4", contentLength: Number(res.headers.get("content-length")) };
    },
    async cancel() {},
    classify: (e) => (e instanceof ProviderFailure ? e.error : { kind: "permanent", message: `failed at ${url}` }),
  };
}
