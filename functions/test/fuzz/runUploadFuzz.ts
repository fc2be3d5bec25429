/**
 * Runs generated `uploadImage` requests (uploadGenerators.ts) against the real onRequest function
 * (its CORS layer included), served by Node HTTP servers on 127.0.0.1 the two ways it meets a
 * body: streamed from the socket, or already read into `req.rawBody` as the Functions framework
 * does. Requests go out on raw sockets, byte for byte as generated (no client library tidies
 * them), and objects land in the offline Storage server. The oracle, after every case:
 *
 * - every answer the handler sends is one the case allows (see UploadCase.expect), always 200,
 *   204 (CORS preflight) or a documented 4xx, never 5xx; a 4xx carries `{ error: { code, message,
 *   reason } }` with the code that goes with its status; a 200 carries exactly `{ uploadId,
 *   expiresAt }`; Node's own HTTP parser may refuse a malformed request (400/431) first;
 * - every request's handler settles, and every connection closes (nothing wedges), and no error
 *   escapes as an unhandled rejection or exception (the process never crashes);
 * - every 200 stored exactly the file part's bytes at transient/uploads/{uid}/{uploadId}, under the
 *   sniffed type, with `{ uid, kind, deleteAt }` matching `expiresAt`; nothing else is left under
 *   transient/ (no partial object, whatever went wrong);
 * - some stored uploads are then taken by createJob, as their owner (the object must be gone
 *   afterwards and a clean image must succeed) or as another user (not-found, object untouched);
 * - no answer and no log line holds a file name, a field name or a token the client sent.
 *
 * Token verifiers are substituted as in test/integration/uploadImage.test.ts (`Bearer test:<uid>`),
 * App Check is enforced (FUNCTIONS_EMULATOR unset) and MAX_IMAGE_BYTES is UPLOAD_FUZZ_CAP while
 * the run lasts. Backends must already be running.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { HttpsError } from "firebase-functions/v2/https";
import { getFirestore } from "firebase-admin/firestore";
import { getStorage } from "firebase-admin/storage";
import sharp from "sharp";
import { exifGpsEntryCount, withExifGps } from "../fixtures/images.js";
import { callAs } from "../support/callables.js";
import { capturedLogs, clearCapturedLogs } from "../support/logCapture.js";
import { CONSENT } from "../support/requests.js";
import { buildCorpus, mulberry32, subSeed, type ImageCorpus, type Rng } from "./generators.js";
import { DOCUMENTED_CODES } from "./runFuzz.js";
import type { ImageProvider, ImageRequest } from "../../src/providers/types.js";
import { FUZZ_APP_CHECK, generateUploadCase, UPLOAD_FUZZ_CAP, UPLOAD_FUZZ_UIDS, type RawRequest, type UploadCase } from "./uploadGenerators.js";

export interface UploadFuzzOptions {
  seed: number;
  cases: number;
  from?: number;
  /** Run only these indices (each case is independent, so this reproduces it exactly). */
  only?: number[];
  /** How long a request, and then its cleanup, may take (default 30 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
  corpus?: ImageCorpus;
}

export interface UploadFuzzFailure {
  seed: number;
  index: number;
  tags: string[];
  problem: string;
  repro: string;
}

export interface UploadFuzzReport {
  seed: number;
  cases: number;
  passed: number;
  failed: number;
  failures: UploadFuzzFailure[];
  /** Answers per HTTP status (and "parser-NNN" for Node's own refusals, "none" for no answer). */
  outcomes: Record<string, number>;
  /** Uploads stored (200) and checked. */
  stored: number;
  /** Stored uploads then taken by createJob: by their owner, and the owner's jobs that succeeded. */
  consumed: number;
  consumedSucceeded: number;
  /** Of those, uploads that carried an EXIF GPS position, which the provider got without it. */
  gpsStripped: number;
  durationMs: number;
  slowest: { index: number; ms: number; tags: string }[];
}

/** What an answer must carry for each status the handler uses. */
const CODE_OF_STATUS: Record<number, string> = {
  400: "invalid-argument",
  401: "unauthenticated",
  403: "permission-denied",
  405: "invalid-argument",
  413: "invalid-argument",
  415: "invalid-argument",
};
const PARSER_STATUSES = [400, 413, 431];
const FORBIDDEN_IN_MESSAGES = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029\uFEFF]/;
const MAX_MESSAGE = 300;
const FAMILY: Record<string, string[]> = {
  "image/jpeg": ["image/jpeg"],
  "image/png": ["image/png"],
  "image/webp": ["image/webp"],
  "image/heic": ["image/heic", "image/heif"],
  "image/heif": ["image/heic", "image/heif"],
};

type ServerRecord =
  { kind: "answer"; status: number; body: string; headers: http.OutgoingHttpHeaders; method: string } | { kind: "parser"; status: number; code: string };

interface ClientResult {
  status?: number;
  cut: boolean;
  timedOut: boolean;
  error?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

/** The photos the local provider was given (set by runUploadFuzz, emptied per consumed upload). */
const providerInputs: Buffer[] = [];

// ---------------------------------------------------------------- servers

interface Harness {
  streamingPort: number;
  bufferedPort: number;
  records: ServerRecord[];
  inflight: Set<Promise<unknown>>;
  openSockets: Set<net.Socket>;
  escaped: string[];
  close: () => Promise<void>;
}

/** Records what the handler answers (status, body, headers), whether or not the client reads it. */
function recordAnswers(req: http.IncomingMessage, res: http.ServerResponse, records: ServerRecord[]) {
  const chunks: Buffer[] = [];
  const toBuffer = (chunk: unknown) =>
    typeof chunk === "string" ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk) : undefined;
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    const b = toBuffer(chunk);
    if (b) chunks.push(b);
    return write(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    const b = typeof chunk === "function" ? undefined : toBuffer(chunk);
    if (b) chunks.push(b);
    records.push({ kind: "answer", status: res.statusCode, body: Buffer.concat(chunks).toString("utf8"), headers: res.getHeaders(), method: req.method ?? "" });
    return end(chunk, ...rest);
  }) as typeof res.end;
}

async function startHarness(fn: Handler): Promise<Harness> {
  const records: ServerRecord[] = [];
  const inflight = new Set<Promise<unknown>>();
  const openSockets = new Set<net.Socket>();
  const escaped: string[] = [];
  const track = (p: Promise<unknown>) => {
    const tracked = p.catch(
      (error: unknown) => void escaped.push(`the function's promise rejected: ${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)}`),
    );
    inflight.add(tracked);
    void tracked.finally(() => inflight.delete(tracked));
  };

  const servers: http.Server[] = [];
  const listen = async (handler: http.RequestListener) => {
    const server = http.createServer(handler);
    servers.push(server);
    server.on("connection", (socket) => {
      openSockets.add(socket);
      socket.on("close", () => openSockets.delete(socket));
    });
    // Node's own refusals of malformed requests (its default handler, recorded).
    server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
      // The client went away mid-request (reset, or closed its side): there is no one to answer.
      if (err.code === "ECONNRESET" || err.code === "HPE_INVALID_EOF_STATE" || !socket.writable) return void socket.destroy();
      const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
      records.push({ kind: "parser", status, code: err.code ?? "unknown" });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };

  // As a plain Node server delivers it: the body is still on the socket and is streamed.
  const streamingPort = await listen((req, res) => {
    recordAnswers(req, res, records);
    track(Promise.resolve().then(() => fn(req, res)));
  });
  // As the Functions framework delivers it: the whole body already read into req.rawBody. A body
  // that never ends never reaches the function.
  const bufferedPort = await listen((req, res) => {
    recordAnswers(req, res, records);
    track(
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          Object.assign(req, { rawBody: Buffer.concat(chunks) });
          Promise.resolve()
            .then(() => fn(req, res))
            .then(resolve, reject);
        });
        req.on("close", () => {
          if (!req.complete) resolve(undefined);
        });
        req.on("error", () => resolve(undefined));
      }),
    );
  });

  return {
    streamingPort,
    bufferedPort,
    records,
    inflight,
    openSockets,
    escaped,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}

// ---------------------------------------------------------------- the client

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one request on a raw socket, exactly as generated; reads the status of the answer. */
function sendRaw(port: number, request: RawRequest, rng: Rng, timeoutMs: number): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let done = false;
    const result: ClientResult = { cut: false, timedOut: false };
    const statusOf = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received.subarray(0, 16).toString("latin1"));
      return m ? Number(m[1]) : undefined;
    };
    /** Drops interim answers (100 Continue to an `Expect: 100-continue` request). */
    const skipInterim = () => {
      while (/^HTTP\/1\.[01] 1\d\d /.test(received.subarray(0, 16).toString("latin1"))) {
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        received = received.subarray(end + 4);
      }
    };
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      result.status ??= statusOf();
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      finish();
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      skipInterim();
      const headerEnd = received.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const head = received.subarray(0, headerEnd).toString("latin1");
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      const bodyDone = request.method === "HEAD" || (length !== undefined && received.length >= headerEnd + 4 + Number(length));
      if (bodyDone) finish();
    });
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", (error: NodeJS.ErrnoException) => {
      result.error = error.code;
      finish();
    });
    socket.on("connect", () => void write().catch(() => finish()));

    const write = async () => {
      const { body, cutAt, framing } = request;
      const lines = [`${request.method} / HTTP/1.1`];
      const head: Buffer[] = [];
      for (const [name, value] of request.headers)
        head.push(Buffer.from(`${name}: `, "latin1"), Buffer.isBuffer(value) ? value : Buffer.from(value, "latin1"), Buffer.from("\r\n"));
      if (framing === "chunked") head.push(Buffer.from("Transfer-Encoding: chunked\r\n"));
      else head.push(Buffer.from(`Content-Length: ${framing === "short-length" ? request.declaredLength : body.length}\r\n`));
      socket.write(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n", "latin1"), ...head, Buffer.from("\r\n")]));
      const limit = cutAt ?? body.length;
      if (framing === "chunked") {
        let at = 0;
        while (at < limit && !done) {
          const size = Math.min(limit - at, rng.chance(0.3) ? rng.int(1, 64) : rng.int(1_000, 128 * 1024));
          socket.write(`${size.toString(16)}\r\n`);
          socket.write(body.subarray(at, at + size));
          if (at + size < limit || cutAt === undefined) socket.write("\r\n");
          at += size;
          if (rng.chance(0.1)) await delay(1);
        }
        if (cutAt === undefined && !done) socket.write("0\r\n\r\n");
      } else if (cutAt !== undefined) {
        // In a few pieces, so the server is mid-part when the client goes.
        const first = rng.int(0, limit);
        socket.write(body.subarray(0, first));
        await delay(rng.int(0, 3));
        socket.write(body.subarray(first, limit));
      } else {
        socket.write(body);
      }
      if (cutAt !== undefined && !done) {
        await delay(rng.int(0, 40)); // let the server get going (open the Storage upload) first
        result.cut = true;
        if (rng.chance(0.5)) socket.resetAndDestroy();
        else socket.destroy();
        finish();
      }
    };
  });
}

// ---------------------------------------------------------------- the run

export async function runUploadFuzz(options: UploadFuzzOptions): Promise<UploadFuzzReport> {
  const { seed, cases, from = 0, timeoutMs = 30_000, log = () => {} } = options;
  const corpus = options.corpus ?? (await buildCorpus());
  const exifJpeg = await withExifGps(corpus.faces.find((f) => f.format === "jpeg" && f.size === 96)!.bytes);
  if (exifGpsEntryCount((await sharp(exifJpeg).metadata()).exif) === 0) throw new Error("the EXIF GPS fixture has no GPS entries");

  const savedEnv = { FUNCTIONS_EMULATOR: process.env.FUNCTIONS_EMULATOR, MAX_IMAGE_BYTES: process.env.MAX_IMAGE_BYTES };
  delete process.env.FUNCTIONS_EMULATOR; // App Check is enforced, as in production
  process.env.MAX_IMAGE_BYTES = String(UPLOAD_FUZZ_CAP);

  const { uploadImageFunction } = await import("../../src/triggers/https/uploadImage.js");
  const uploadImage = uploadImageFunction({
    verifyIdToken: async (t) => {
      const uid = /^test:([\w-]+)$/.exec(t)?.[1];
      if (!uid) throw new Error("invalid token");
      return { uid };
    },
    verifyAppCheck: async (t) => {
      if (t !== FUZZ_APP_CHECK) throw new Error("invalid App Check token");
    },
  });
  const { createJob } = await import("../../src/index.js");
  // The real local provider, recording the photo it is given: what a provider sees of an upload.
  const { localProvider } = await import("../../src/providers/local/index.js");
  const { overrideProvider } = await import("../support/dependencies.js");
  const recording: ImageProvider = Object.assign(Object.create(localProvider) as ImageProvider, {
    run: (req: ImageRequest, signal?: AbortSignal) => {
      providerInputs.push(Buffer.from(req.image.bytes));
      return localProvider.run(req, signal);
    },
  });
  overrideProvider("image:local", recording);
  const harness = await startHarness(uploadImage as unknown as Handler);

  const report: UploadFuzzReport = {
    seed,
    cases: 0,
    passed: 0,
    failed: 0,
    failures: [],
    outcomes: {},
    stored: 0,
    consumed: 0,
    consumedSucceeded: 0,
    gpsStripped: 0,
    durationMs: 0,
    slowest: [],
  };
  const count = (key: string) => (report.outcomes[key] = (report.outcomes[key] ?? 0) + 1);
  const repro = (index: number) => `npm run fuzz -- --seed ${seed} --cases 0 --upload-only ${index}`;

  const crashes: string[] = [];
  const onCrash = (error: unknown) => {
    const at =
      (error as Error)?.stack
        ?.split("\n")
        .slice(1, 4)
        .map((l) => l.trim())
        .join(" < ") ?? "";
    crashes.push(`${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)} (${at})`);
  };
  process.on("unhandledRejection", onCrash);
  process.on("uncaughtException", onCrash);

  const started = Date.now();
  const indices = options.only ?? Array.from({ length: cases }, (_, i) => from + i);
  try {
    for (const index of indices) {
      const c = generateUploadCase(seed, index, corpus, exifJpeg);
      const problems: string[] = [];
      const t0 = Date.now();
      await runCase(c, harness, createJob, timeoutMs, count, (p) => problems.push(p), report);
      for (const crash of crashes.splice(0)) problems.push(`unhandled error (a crash in production): ${crash}`);
      for (const e of harness.escaped.splice(0)) problems.push(e);
      for (const problem of problems) {
        const f: UploadFuzzFailure = { seed, index, tags: c.tags, problem, repro: repro(index) };
        report.failures.push(f);
        log(`FAIL upload seed=${seed} case=${index} ${c.tags.join(" ")}: ${problem}\n  repro: ${f.repro}`);
      }
      const ms = Date.now() - t0;
      report.slowest.push({ index, ms, tags: c.tags.join(" ") });
      report.slowest = report.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5);
      report.cases++;
      if (problems.length) report.failed++;
      else report.passed++;
      if (report.cases % 500 === 0)
        log(`fuzz uploads: ${report.cases}/${indices.length} cases, ${report.failed} failed, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    process.off("unhandledRejection", onCrash);
    process.off("uncaughtException", onCrash);
    await harness.close();
    overrideProvider("image:local", undefined);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  report.durationMs = Date.now() - started;
  return report;
}

async function runCase(
  c: UploadCase,
  h: Harness,
  createJob: Parameters<typeof callAs>[0],
  timeoutMs: number,
  count: (key: string) => void,
  fail: (problem: string) => void,
  report: UploadFuzzReport,
) {
  h.records.length = 0;
  clearCapturedLogs();
  const port = c.transport === "streaming" ? h.streamingPort : h.bufferedPort;
  const clients = await Promise.all(
    Array.from({ length: c.parallel }, (_, k) => sendRaw(port, c.request, mulberry32(subSeed(c.seed, c.index, 100 + k)), timeoutMs)),
  );

  // Nothing may wedge: every connection closes and every handler settles (its cleanup included).
  const deadline = Date.now() + timeoutMs;
  while ((h.openSockets.size || h.inflight.size) && Date.now() < deadline) {
    if (h.inflight.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...h.inflight]), new Promise((r) => (timer = setTimeout(r, Math.max(1, deadline - Date.now()))))]);
      clearTimeout(timer); // a pending timer would keep the process alive after the run
    } else await delay(2);
  }
  if (h.inflight.size) fail(`a handler did not settle within ${timeoutMs} ms (a wedged request)`);
  if (h.openSockets.size) fail(`a connection was still open ${timeoutMs} ms after the client finished`);
  for (const s of h.openSockets) s.destroy();

  const records = [...h.records];
  const logs = capturedLogs();
  const answers = records.filter((r): r is Extract<ServerRecord, { kind: "answer" }> => r.kind === "answer");
  const parser = records.filter((r) => r.kind === "parser");

  for (const r of records) count(r.kind === "parser" ? `parser-${r.status}` : String(r.status));
  for (let i = records.length; i < c.parallel; i++) count("none");

  // ---- statuses
  const allowed = new Set(c.expect);
  for (const r of records) {
    if (r.status >= 500) fail(`HTTP ${r.status}${r.kind === "answer" ? `: ${r.body.slice(0, 200)}` : ""}`);
    else if (r.kind === "parser") {
      // Node refused the bytes: allowed where the case is malformed at the HTTP level, or for the
      // garbage that follows a body shorter than its declared length.
      if (!PARSER_STATUSES.includes(r.status) || (!allowed.has(r.status) && c.request.framing !== "short-length"))
        fail(`Node's HTTP parser answered ${r.status} (${r.code}); the case expects ${[...allowed].join("/")}`);
    } else if (!allowed.has(r.status)) {
      fail(`answered ${r.status} ${reasonOf(r.body)}; the case expects ${[...allowed].join("/")}`);
    }
  }
  if (answers.length > c.parallel) fail(`${answers.length} answers to ${c.parallel} request(s)`);
  if (!allowed.has("none") && answers.length + parser.length < c.parallel)
    fail(`${c.parallel - answers.length - parser.length} request(s) got no answer at all`);
  for (const client of clients) {
    if (client.timedOut && !allowed.has("none")) fail(`the client got no answer within ${timeoutMs} ms`);
    if (client.status !== undefined && !records.some((r) => r.status === client.status))
      fail(`the client read HTTP ${client.status}, which the server never sent`);
  }

  // ---- answer bodies
  const stored: { uploadId: string; expiresAt: string }[] = [];
  for (const a of answers) {
    if (a.status === 204) continue; // the CORS layer's preflight answer
    if (c.origin && a.headers["access-control-allow-origin"] !== "https://app.example")
      fail("an answer to a request with Origin lacks Access-Control-Allow-Origin");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(a.body) as Record<string, unknown>;
    } catch {
      fail(`HTTP ${a.status} with a body that is not JSON: ${JSON.stringify(a.body.slice(0, 80))}`);
      continue;
    }
    if (!String(a.headers["content-type"]).startsWith("application/json")) fail(`HTTP ${a.status} answered as ${a.headers["content-type"]}`);
    if (a.status === 200) {
      const keys = Object.keys(body).sort().join(",");
      if (
        keys !== "expiresAt,uploadId" ||
        typeof body.uploadId !== "string" ||
        !/^[A-Za-z0-9_-]{32}$/.test(body.uploadId) ||
        typeof body.expiresAt !== "string"
      ) {
        fail(`a 200 whose body is not { uploadId, expiresAt }: ${a.body.slice(0, 120)}`);
        continue;
      }
      stored.push({ uploadId: body.uploadId, expiresAt: body.expiresAt });
      continue;
    }
    const error = body.error as { code?: unknown; message?: unknown; reason?: unknown } | undefined;
    if (!error || Object.keys(body).length !== 1) {
      fail(`HTTP ${a.status} without { error }: ${a.body.slice(0, 120)}`);
      continue;
    }
    if (error.code !== CODE_OF_STATUS[a.status] || !DOCUMENTED_CODES.includes(String(error.code))) fail(`HTTP ${a.status} with code ${String(error.code)}`);
    if (typeof error.reason !== "string" || !/^[a-z-]+$/.test(error.reason)) fail(`HTTP ${a.status} without a stable reason`);
    const message = typeof error.message === "string" ? error.message : "";
    if (!message) fail(`HTTP ${a.status} without a message`);
    if (message.length > MAX_MESSAGE) fail(`a message of ${message.length} characters`);
    if (FORBIDDEN_IN_MESSAGES.test(message)) fail(`a message with control or bidi characters: ${JSON.stringify(message.slice(0, 120))}`);
    for (const s of c.secrets) if (message.includes(s)) fail(`a message echoes client text ${JSON.stringify(s.slice(0, 40))}`);
  }
  for (const s of c.secrets) if (logs.includes(s)) fail(`a log line holds client text ${JSON.stringify(s.slice(0, 40))}`);
  for (const s of stored) if (logs.includes(s.uploadId) === false) fail("a stored upload was not logged by its id");

  // ---- what is in Storage: exactly the answered uploads, each the file part's bytes
  const bucket = getStorage().bucket();
  const [files] = await bucket.getFiles({ prefix: "transient/" });
  const expectedPaths = new Map(stored.map((s) => [`transient/uploads/${c.uid}/${s.uploadId}`, s]));
  for (const f of files) {
    if (!/\/fuzz-up-\d+\//.test(f.name)) continue;
    if (!expectedPaths.has(f.name)) {
      fail(`object left behind without a 200 for it: ${f.name}`);
      await f.delete().catch(() => undefined);
    }
  }
  for (const [path, s] of expectedPaths) {
    const file = bucket.file(path);
    const [exists] = await file.exists();
    if (!exists) {
      fail(`a 200 whose upload is not stored (${path})`);
      continue;
    }
    report.stored++;
    const [[bytes], [meta]] = await Promise.all([file.download(), file.getMetadata()]);
    if (c.file && !bytes.equals(c.file)) fail(`the stored object is not the uploaded file (${bytes.length} bytes stored, ${c.file.length} sent)`);
    const family = FAMILY[String(meta.contentType)];
    const head = Buffer.from(bytes.subarray(0, 16));
    if (!family) fail(`stored with content type ${meta.contentType}`);
    else if (!sniffsAs(head, family)) fail(`stored as ${meta.contentType}, but the bytes are not that`);
    const expiresAt = Date.parse(s.expiresAt);
    if (meta.cacheControl !== "private, no-store") fail(`stored with Cache-Control ${meta.cacheControl}`);
    if (JSON.stringify(meta.metadata) !== JSON.stringify({ uid: c.uid, kind: "uploads", deleteAt: String(expiresAt), writer: "uploadImage" }))
      fail(`stored with metadata ${JSON.stringify(meta.metadata)}`);
    if (!(expiresAt > Date.now() + 25 * 60_000 && expiresAt <= Date.now() + 30 * 60_000)) fail(`expiresAt ${s.expiresAt} is not UPLOAD_TTL_MINUTES (30) away`);
    await consumeOrDelete(c, path, s.uploadId, createJob, fail, report);
  }
}

/** The first bytes say what the content type claims (an independent, minimal signature check). */
function sniffsAs(head: Buffer, family: string[]): boolean {
  if (family.includes("image/jpeg")) return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  if (family.includes("image/png")) return head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  if (family.includes("image/webp")) return head.toString("latin1", 0, 4) === "RIFF" && head.toString("latin1", 8, 12) === "WEBP";
  return head.toString("latin1", 4, 8) === "ftyp";
}

function reasonOf(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; reason?: string } }).error;
    return e ? `${e.code}/${e.reason}` : "";
  } catch {
    return "";
  }
}

/** createJob takes the upload (its owner: the object goes, whatever the outcome) or is refused it (a stranger). */
async function consumeOrDelete(
  c: UploadCase,
  path: string,
  uploadId: string,
  createJob: Parameters<typeof callAs>[0],
  fail: (p: string) => void,
  report: UploadFuzzReport,
) {
  const file = getStorage().bucket().file(path);
  if (!c.consume) return void (await file.delete().catch(() => undefined));
  const caller = c.consume === "owner" ? c.uid : UPLOAD_FUZZ_UIDS[(UPLOAD_FUZZ_UIDS.indexOf(c.uid) + 1) % UPLOAD_FUZZ_UIDS.length]!;
  const request = { requestId: randomUUID(), feature: "style", style: "noir", image: { uploadId }, consent: CONSENT };
  providerInputs.length = 0;
  let outcome: { ok: true; value: { status?: string; result?: unknown } } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await callAs(createJob, caller, request) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const [stillThere] = await file.exists();
  // A quota refusal comes before the upload is read: it stays, for a retry within its lifetime.
  const quota = !outcome.ok && outcome.error instanceof HttpsError && outcome.error.code === "resource-exhausted";
  if (quota) report.outcomes["createJob-quota"] = (report.outcomes["createJob-quota"] ?? 0) + 1;
  if (c.consume === "stranger") {
    if (outcome.ok) fail("another user's createJob took the upload");
    else if (!(outcome.error instanceof HttpsError) || (outcome.error.code !== "not-found" && !quota))
      fail(`another user's createJob answered ${(outcome.error as HttpsError)?.code ?? (outcome.error as Error)?.name}, not not-found`);
    if (!stillThere) fail("another user's createJob deleted the upload");
    await file.delete().catch(() => undefined);
    return;
  }
  report.consumed++;
  if (stillThere) {
    if (!quota) fail("createJob left the upload it took in Storage");
    await file.delete().catch(() => undefined);
  }
  if (outcome.ok) {
    if (outcome.value.status === "succeeded" && outcome.value.result) report.consumedSucceeded++;
    else fail(`createJob on the upload answered status ${outcome.value.status}`);
    // The provider got the photo without its location: EXIF GPS is stripped before any provider.
    if (providerInputs.length !== 1) fail(`the provider was called ${providerInputs.length} times for one job`);
    for (const input of providerInputs) {
      const meta = await sharp(input)
        .metadata()
        .catch(() => undefined);
      if (!meta) fail("the provider was given bytes that do not decode");
      else if (exifGpsEntryCount(meta.exif) > 0) fail("the provider was given the photo with its EXIF GPS position");
      else if (c.tags.includes("file:valid-jpeg-exif-gps")) report.gpsStripped++;
    }
  } else {
    const e = outcome.error;
    if (!(e instanceof HttpsError)) fail(`createJob on the upload threw a non-HttpsError ${(e as Error)?.name}`);
    else if (e.code === "internal" || !DOCUMENTED_CODES.includes(e.code)) fail(`createJob on the upload answered ${e.code}: ${e.message.slice(0, 160)}`);
    else if (c.cleanImage && !quota) fail(`createJob refused a clean uploaded image: ${e.code} ${e.message.slice(0, 160)}`);
  }
  const { jobIdFor } = await import("../../src/jobs/jobId.js");
  const job = await getFirestore()
    .doc(`jobs/${jobIdFor(caller, request.requestId)}`)
    .get();
  if (job.exists && ["queued", "running"].includes(job.get("status"))) fail(`the job of a consumed upload was left ${job.get("status")}`);
}
