/**
 * uploadImage end to end in-process: the real onRequest function (CORS wrapper included) served by
 * a Node HTTP server on 127.0.0.1, clients using fetch/FormData or raw sockets, objects landing in
 * the offline Storage server. The Auth emulator does not run in-process, so the token verifiers
 * are injected (uploadImageFunction(verifiers)): `Bearer test:<uid>` is a valid ID token for <uid>,
 * and `X-Firebase-AppCheck: test-app-check` a valid App Check token. Everything else about the
 * request is the production path.
 */
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { getStorage } from "firebase-admin/storage";
import { makeFaceImage, NON_IMAGES, type FixtureFormat } from "../fixtures/images.js";
import { useBackends } from "../support/backends.js";
import { callAs, rejectionOf } from "../support/callables.js";
import { capturedLogs } from "../support/logCapture.js";
import { createJobRequest } from "../support/requests.js";

useBackends();

const APP_CHECK = "test-app-check";
const FILE_NAME = "my-private-holiday-photo.jpg";
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

let streamingBase = "";
let bufferedBase = "";
const servers: http.Server[] = [];

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Every handler call, so a test can wait for the ones it started to end: after a client has gone,
 * nobody receives an answer that says the cleanup is done (the handler resolves once it is).
 */
const handled: Promise<unknown>[] = [];
const handle = (fn: Handler, req: http.IncomingMessage, res: http.ServerResponse) => void handled.push(Promise.resolve(fn(req, res)));

/** Waits for `count` handler calls after the first `since` (handled.length then) to be made and to end. */
async function handlersEnded(since: number, count = 1, deadlineMs = 30_000): Promise<void> {
  const started = Date.now();
  while (handled.length < since + count) {
    assert.ok(Date.now() - started < deadlineMs, `the server did not call the handler in ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the handler did not end in ${deadlineMs} ms`)), deadlineMs);
  });
  await Promise.race([Promise.all(handled.slice(since)), late]).finally(() => clearTimeout(timer));
}

/** Started inside the suites (after useBackends' hooks have pointed firebase-admin at the servers). */
let started: Promise<void> | undefined;
const startServers = () => (started ??= start());

async function start() {
  const { uploadImageFunction } = await import("../../src/triggers/https/uploadImage.js");
  const fn = uploadImageFunction({
    verifyIdToken: async (token) => {
      const uid = /^test:([\w-]+)$/.exec(token)?.[1];
      if (!uid) throw new Error("invalid token");
      return { uid };
    },
    verifyAppCheck: async (token) => {
      if (token !== APP_CHECK) throw new Error("invalid App Check token");
    },
  }) as unknown as Handler;
  // As a plain Node server delivers it: the body is still on the socket and is streamed.
  streamingBase = await listen((req, res) => handle(fn, req, res));
  // As the Functions framework delivers it: the body already read into req.rawBody.
  bufferedBase = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      Object.assign(req, { rawBody: Buffer.concat(chunks) });
      handle(fn, req, res);
    });
  });
}

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

afterEach(() => {
  delete process.env.MAX_IMAGE_BYTES;
  delete process.env.FUNCTIONS_EMULATOR;
});

interface Answer {
  status: number;
  headers: Headers;
  body: { uploadId?: string; expiresAt?: string; error?: { code: string; message: string; reason: string } };
}

async function post(
  form: FormData | undefined,
  { uid = "u1", token, appCheck = APP_CHECK, base = streamingBase }: { uid?: string; token?: string | null; appCheck?: string | null; base?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const bearer = token === undefined ? `test:${uid}` : token;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (appCheck !== null) headers["x-firebase-appcheck"] = appCheck;
  const res = await fetch(base, { method: "POST", headers, body: form });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer["body"] };
}

function formWith(bytes: Uint8Array, { type = "image/jpeg", name = "file", filename = FILE_NAME }: { type?: string; name?: string; filename?: string } = {}) {
  const form = new FormData();
  form.append(name, new Blob([new Uint8Array(bytes)], { type }), filename);
  return form;
}

/** A JPEG signature followed by filler: enough for the upload, which only sniffs the head. */
const jpegLike = (size: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.alloc(size - 6, 0x5a)]);

async function transientObjects(): Promise<string[]> {
  const [files] = await getStorage().bucket().getFiles({ prefix: "transient/" });
  return files.map((f) => f.name);
}

async function assertNothingStored(message = "nothing is stored"): Promise<void> {
  assert.deepEqual(await transientObjects(), [], message);
}

function assertRejected(answer: Answer, status: number, code: string, reason?: string) {
  assert.equal(answer.status, status, `HTTP ${status} (got ${answer.status}: ${JSON.stringify(answer.body)})`);
  assert.equal(answer.body.error?.code, code);
  if (reason) assert.equal(answer.body.error?.reason, reason);
  assert.ok(answer.body.error?.message, "a message says what is wrong");
}

describe("uploadImage: the happy path", () => {
  before(startServers);
  for (const format of ["jpeg", "png", "webp"] as const satisfies FixtureFormat[]) {
    test(`${format}: stored under transient/uploads/{uid}/{uploadId} with metadata and the sniffed type`, async () => {
      const bytes = await makeFaceImage({ width: 320, height: 240, format });
      const before = Date.now();
      const answer = await post(formWith(bytes, { type: `image/${format}` }), { uid: "u-happy" });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const { uploadId, expiresAt } = answer.body;
      assert.match(uploadId!, /^[A-Za-z0-9_-]{32}$/);
      const expires = Date.parse(expiresAt!);
      assert.equal(new Date(expires).toISOString(), expiresAt, "expiresAt is ISO 8601");
      assert.ok(expires >= before + 29 * 60_000 && expires <= Date.now() + 30 * 60_000 + 1000, "expires after UPLOAD_TTL_MINUTES (30)");

      const file = getStorage().bucket().file(`transient/uploads/u-happy/${uploadId}`);
      const [[stored], [meta]] = await Promise.all([file.download(), file.getMetadata()]);
      assert.ok(stored.equals(bytes), "the stored bytes are the uploaded bytes");
      assert.equal(meta.contentType, `image/${format}`);
      assert.equal(meta.cacheControl, "private, no-store");
      assert.deepEqual(meta.metadata, { uid: "u-happy", kind: "uploads", deleteAt: String(expires), writer: "uploadImage" });
      assert.deepEqual(await transientObjects(), [`transient/uploads/u-happy/${uploadId}`]);
    });
  }

  test("createJob consumes the upload; it is gone afterwards; another user's createJob can't see it", async () => {
    const bytes = await makeFaceImage({ width: 256, height: 256, format: "jpeg" });
    const answer = await post(formWith(bytes), { uid: "u-owner" });
    assert.equal(answer.status, 200);
    const uploadId = answer.body.uploadId!;
    const { createJob } = await import("../../src/index.js");

    const stranger = await rejectionOf(callAs(createJob, "u-stranger", await createJobRequest({ image: { uploadId } })));
    assert.equal(stranger.code, "not-found", "another user's upload id is not found");

    const res = await callAs<{ status: string; result?: { mimeType: string } }>(createJob, "u-owner", await createJobRequest({ image: { uploadId } }));
    assert.equal(res.status, "succeeded");
    assert.ok(res.result?.mimeType.startsWith("image/"));
    await assertNothingStored("the upload is deleted once a job has used it");
  });

  test("no declared type (application/octet-stream): stored with the sniffed type", async () => {
    const bytes = await makeFaceImage({ width: 64, height: 64, format: "png" });
    const answer = await post(formWith(bytes, { type: "" }));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const [meta] = await getStorage().bucket().file(`transient/uploads/u1/${answer.body.uploadId}`).getMetadata();
    assert.equal(meta.contentType, "image/png");
  });

  test("a body already read by the Functions framework (req.rawBody) is handled the same way", async () => {
    const bytes = await makeFaceImage({ width: 64, height: 64, format: "webp" });
    const answer = await post(formWith(bytes, { type: "image/webp" }), { base: bufferedBase, uid: "u-raw" });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const [stored] = await getStorage().bucket().file(`transient/uploads/u-raw/${answer.body.uploadId}`).download();
    assert.ok(stored.equals(bytes));
  });

  test("a file of exactly MAX_IMAGE_BYTES is accepted", async () => {
    process.env.MAX_IMAGE_BYTES = "20000";
    const answer = await post(formWith(jpegLike(20_000)));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  test("CORS: a browser preflight is answered and the answer carries Access-Control-Allow-Origin", async () => {
    const preflight = await fetch(streamingBase, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,x-firebase-appcheck",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/i);
    const res = await fetch(streamingBase, {
      method: "POST",
      headers: { origin: "https://app.example", authorization: "Bearer test:u1", "x-firebase-appcheck": APP_CHECK },
      body: formWith(await makeFaceImage({ width: 32, height: 32 })),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
  });
});

describe("uploadImage: who may upload", () => {
  before(startServers);
  test("no token or an invalid one → 401 unauthenticated; nothing stored", async () => {
    const form = formWith(await makeFaceImage({ width: 32, height: 32 }));
    assertRejected(await post(form, { token: null }), 401, "unauthenticated", "missing-id-token");
    assertRejected(await post(form, { token: "not-a-token" }), 401, "unauthenticated", "invalid-id-token");
    const basic = await fetch(streamingBase, { method: "POST", headers: { authorization: "Basic dTE6cA==", "x-firebase-appcheck": APP_CHECK }, body: form });
    assert.equal(basic.status, 401);
    await assertNothingStored();
  });

  test("no or an invalid App Check token outside the emulator → 403 permission-denied; relaxed under the emulator", async () => {
    const form = formWith(await makeFaceImage({ width: 32, height: 32 }));
    assertRejected(await post(form, { appCheck: null }), 403, "permission-denied", "missing-app-check");
    assertRejected(await post(form, { appCheck: "forged" }), 403, "permission-denied", "invalid-app-check");
    await assertNothingStored();
    process.env.FUNCTIONS_EMULATOR = "true";
    assert.equal((await post(form, { appCheck: null })).status, 200, "the emulator relaxes App Check");
  });

  test("the tokens are checked before the body is read", async () => {
    // A request that announces a body and never sends it: the 401 still comes back at once.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(streamingBase, {
        method: "POST",
        headers: { "content-type": "multipart/form-data; boundary=x", "content-length": "1000000" },
      });
      req.on("response", (res) => {
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    assert.equal(status, 401);
  });

  test("GET (or any method but POST) → 405", async () => {
    const res = await fetch(streamingBase, { headers: { authorization: "Bearer test:u1" } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    const body = (await res.json()) as Answer["body"];
    assert.equal(body.error?.reason, "method-not-allowed");
  });
});

describe("uploadImage: what may be uploaded", () => {
  before(startServers);
  test("two files, an extra field, a wrong part name, no part at all → 400; nothing stored", async () => {
    const bytes = await makeFaceImage({ width: 32, height: 32 });
    const two = formWith(bytes);
    two.append("file", new Blob([bytes], { type: "image/jpeg" }), "b.jpg");
    assertRejected(await post(two), 400, "invalid-argument", "upload-extra-part");

    const fieldAfter = formWith(bytes);
    fieldAfter.append("caption", "hello");
    assertRejected(await post(fieldAfter), 400, "invalid-argument", "upload-extra-part");

    const fieldBefore = new FormData();
    fieldBefore.append("caption", "hello");
    fieldBefore.append("file", new Blob([bytes], { type: "image/jpeg" }), "a.jpg");
    assertRejected(await post(fieldBefore), 400, "invalid-argument", "upload-extra-part");

    const otherFile = formWith(bytes);
    otherFile.append("thumbnail", new Blob([bytes], { type: "image/jpeg" }), "t.jpg");
    assertRejected(await post(otherFile), 400, "invalid-argument", "upload-extra-part");

    const wrongName = formWith(bytes, { name: "photo" });
    const answer = await post(wrongName);
    assertRejected(answer, 400, "invalid-argument", "upload-wrong-part");
    assert.match(answer.body.error!.message, /named file/);

    assertRejected(await post(new FormData()), 400, "invalid-argument");
    await assertNothingStored();
  });

  test("not multipart → 415", async () => {
    const res = await fetch(streamingBase, {
      method: "POST",
      headers: { authorization: "Bearer test:u1", "x-firebase-appcheck": APP_CHECK, "content-type": "image/jpeg" },
      body: await makeFaceImage({ width: 32, height: 32 }),
    });
    assert.equal(res.status, 415);
    await assertNothingStored();
  });

  test("over MAX_IMAGE_BYTES → 413 and no partial object (streamed and already-buffered bodies)", async () => {
    process.env.MAX_IMAGE_BYTES = "20000";
    for (const base of [streamingBase, bufferedBase]) {
      // Within cap + multipart overhead: caught by busboy's file-size limit mid-stream.
      const answer = await post(formWith(jpegLike(50_000)), { base });
      assertRejected(answer, 413, "invalid-argument", "image-too-large");
      assert.match(answer.body.error!.message, /file is too large/);
      // Far beyond: refused on the declared length, before the body is read.
      assertRejected(await post(formWith(jpegLike(300_000)), { base }), 413, "invalid-argument", "image-too-large");
    }
    await assertNothingStored("no partial object is left");
  });

  test("non-image bytes → 415; a lying content type → 400; an empty file → 400; nothing stored", async () => {
    for (const [kind, bytes] of Object.entries(NON_IMAGES)) {
      const answer = await post(formWith(bytes, { type: "image/jpeg" }));
      assertRejected(answer, 415, "invalid-argument", "image-not-an-image");
      assert.match(answer.body.error!.message, /^file is not an image/, kind);
    }
    const gif = Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(100)]);
    assertRejected(await post(formWith(gif, { type: "image/gif" })), 415, "invalid-argument", "image-unsupported-type");

    const png = await makeFaceImage({ width: 32, height: 32, format: "png" });
    const lying = await post(formWith(png, { type: "image/jpeg" }));
    assertRejected(lying, 400, "invalid-argument", "image-type-mismatch");
    assert.match(lying.body.error!.message, /file content is image\/png but its content type says image\/jpeg/);
    assertRejected(await post(formWith(png, { type: "text/html" })), 400, "invalid-argument", "image-type-mismatch");

    assertRejected(await post(formWith(Buffer.alloc(0))), 400, "invalid-argument", "image-empty");
    await assertNothingStored();
  });

  test("a truncated multipart body (no closing boundary) → 400; nothing stored", async () => {
    const jpeg = await makeFaceImage({ width: 64, height: 64 });
    const boundary = "----photofixer";
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      jpeg.subarray(0, 3000),
    ]);
    const res = await fetch(streamingBase, {
      method: "POST",
      headers: { authorization: "Bearer test:u1", "x-firebase-appcheck": APP_CHECK, "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as Answer["body"]).error?.reason, "upload-truncated");
    // The same body with the file part closed but no final boundary.
    const res2 = await fetch(streamingBase, {
      method: "POST",
      headers: { authorization: "Bearer test:u1", "x-firebase-appcheck": APP_CHECK, "content-type": `multipart/form-data; boundary=${boundary}` },
      body: Buffer.concat([body, jpeg.subarray(3000), Buffer.from(`\r\n--${boundary}\r\n`)]),
    });
    assert.equal(res2.status, 400);
    await assertNothingStored();
  });

  test("a refused part in a body that ends early (as the Functions framework hands it over) is answered, not a crash", async () => {
    // busboy destroys an unfinished part's stream with an error at the early end; a refused part
    // whose stream had no error listener took the instance down (found by the upload fuzzer).
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on("uncaughtException", onCrash);
    try {
      const jpeg = await makeFaceImage({ width: 64, height: 64 });
      const boundary = "----photofixer";
      const part = (name: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
      const bodies = {
        "upload-wrong-part": Buffer.concat([Buffer.from(part("photo")), jpeg.subarray(0, 500)]),
        "upload-extra-part": Buffer.concat([
          Buffer.from(part("caption").replace('; filename="a.jpg"', "")),
          Buffer.from(`hello\r\n${part("file")}`),
          jpeg.subarray(0, 500),
        ]),
      };
      for (const [reason, body] of Object.entries(bodies)) {
        const res = await fetch(bufferedBase, {
          method: "POST",
          headers: { authorization: "Bearer test:u1", "x-firebase-appcheck": APP_CHECK, "content-type": `multipart/form-data; boundary=${boundary}` },
          body,
        });
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as Answer["body"]).error?.reason, reason);
      }
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(crashes, [], "no uncaught stream error");
      await assertNothingStored();
    } finally {
      process.off("uncaughtException", onCrash);
    }
  });

  test("a complete form whose answer can no longer be delivered leaves no object behind", async () => {
    // The form ends within the declared length; the bytes after it are not HTTP, so Node drops the
    // connection while the photo is being stored: nobody can learn the uploadId (fuzzer-found).
    const jpeg = await makeFaceImage({ width: 64, height: 64 });
    const boundary = "----photofixer";
    const form = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      jpeg,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const { port } = new URL(streamingBase);
    const calls = handled.length;
    const head = [
      "POST / HTTP/1.1",
      "Host: 127.0.0.1",
      "Authorization: Bearer test:u-lost",
      `X-Firebase-AppCheck: ${APP_CHECK}`,
      `Content-Type: multipart/form-data; boundary=${boundary}`,
      `Content-Length: ${form.length}`,
    ].join("\r\n");
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), "127.0.0.1", () =>
        socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), form, Buffer.from("\u0000 not HTTP\r\n\r\n")])),
      );
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
      socket.resume();
    });
    // The handler logs the disconnect, then deletes the photo: its end, not the log, says it is done.
    await handlersEnded(calls);
    assert.ok(capturedLogs().includes("client-disconnected"), "the handler noticed that no one can be answered");
    await assertNothingStored("the stored photo was deleted again");
  });

  test("a client that disconnects midway leaves no object behind", async () => {
    const boundary = "----photofixer";
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const calls = handled.length;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(streamingBase, {
        method: "POST",
        headers: {
          authorization: "Bearer test:u-gone",
          "x-firebase-appcheck": APP_CHECK,
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "transfer-encoding": "chunked",
        },
      });
      req.on("error", () => resolve()); // expected: we destroy the socket ourselves
      req.on("response", () => reject(new Error("the server should not answer a half-sent body")));
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
      req.write(jpegLike(8192));
      let sent = 0;
      const pump = () => {
        while (sent < 20) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        // Give the server time to open the Storage upload and stream into it, then vanish.
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      };
      pump();
    });
    // The cleanup runs after the socket has gone; the handler ends once it is done.
    await handlersEnded(calls);
    assert.ok(capturedLogs().includes("client-disconnected"), "the handler noticed the disconnect");
    assert.deepEqual(await transientObjects(), [], "no partial object is left");
  });

  test("logs name neither the file nor the token, and hold no image bytes", async () => {
    const bytes = await makeFaceImage({ width: 64, height: 64 });
    const answer = await post(formWith(bytes), { uid: "u-logs" });
    assert.equal(answer.status, 200);
    await post(formWith(NON_IMAGES.html), { uid: "u-logs" });
    await post(formWith(bytes), { token: "test:bad token with spaces" });
    const logs = capturedLogs();
    assert.match(logs, /upload stored/);
    assert.ok(!logs.includes(FILE_NAME), "no file name in the logs");
    assert.ok(!logs.includes("test:u-logs") && !logs.includes("Bearer"), "no token in the logs");
    assert.ok(!logs.includes(bytes.toString("base64").slice(100, 148)), "no image bytes in the logs");
  });
});
