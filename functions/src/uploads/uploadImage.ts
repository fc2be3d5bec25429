/**
 * The uploadImage service (ARCHITECTURE §3, §5 step 1): one photo, streamed from a multipart body
 * into `transient/uploads/{uid}/{uploadId}` without holding the file in memory, for createJob to
 * consume with `image: { uploadId }`.
 *
 * Order of checks, each answered with `{ error: { code, message, reason } }` (code = an HttpsError
 * code) and an HTTP status:
 *   1. method: POST only (405);
 *   2. Firebase ID token from `Authorization: Bearer` (401 unauthenticated) and, outside the
 *      emulator, the App Check token from `X-Firebase-AppCheck` (403 permission-denied), both
 *      BEFORE a byte of the body is read;
 *   3. request shape: multipart/form-data (415), a declared length within the cap (413);
 *   4. the body: exactly one file part named `file`, nothing else (400); its first bytes are
 *      sniffed before anything is written (415 not an image / unsupported, 400 declared type
 *      contradicts the bytes); at most MAX_IMAGE_BYTES (413); not empty (400); a complete
 *      multipart body (400).
 * Any failure leaves no object behind: a partial upload is aborted before it is finalised and the
 * path deleted anyway, before the answer is sent (work after the response is not guaranteed CPU on
 * Cloud Functions). A client that disconnects midway gets the same cleanup.
 *
 * Deployed, the Functions framework (and the emulator) has already read the whole body into
 * `req.rawBody` before the handler runs (Cloud Run caps a request at 32 MiB); busboy then parses
 * that buffer. Served from a plain Node HTTP server (tests, bench) the body is streamed from the
 * socket with backpressure all the way into the resumable Storage upload.
 *
 * Logs carry the uid, the uploadId, sizes and stable reasons: never bytes, tokens or file names.
 */
import "../admin.js";
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable, Writable } from "node:stream";
import busboy from "busboy";
import { isEmulator, settings } from "../config/params.js";
import { AppError, BACKEND_RETRY_AFTER_SECONDS, isTransientBackendError, type ErrorCode } from "../errors.js";
import { normaliseDeclaredMime } from "../images/validate.js";
import { describeNonImage, OTHER_IMAGE_KINDS, sniffImageType } from "../images/sniff.js";
import * as logs from "../logging/logs.js";
import { errorSummary, redactText } from "../logging/redact.js";
import { sendsGpc } from "../privacy/gpc.js";
import { transientPaths } from "../privacy/paths.js";
import { deleteTransient, openTransientWriteStream } from "../privacy/transientStore.js";
import type { ImageMime } from "../providers/types.js";

const FN = "uploadImage";
/** The multipart part that carries the photo. */
export const FILE_FIELD = "file";
/** Enough for every signature sniffImageType knows, the HEIF `ftyp` brand list included. */
const SNIFF_BYTES = 4096;
/** Boundaries and part headers around the file; a body larger than cap + this is refused. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Part types that say nothing about the file: busboy reports `text/plain` when a part has none. */
const UNDECLARED_TYPES = new Set(["application/octet-stream", "text/plain"]);
const ACCEPTED_LIST = "JPEG, PNG, WebP or HEIC/HEIF";

export interface UploadResponse {
  uploadId: string;
  /** ISO 8601; after this the upload is purged and createJob answers not-found. */
  expiresAt: string;
}

/**
 * Token checks, kept as small replaceable functions. Production uses firebase-admin (which, under
 * the emulator with FIREBASE_AUTH_EMULATOR_HOST set, accepts Auth emulator tokens). The Auth
 * emulator does not run in-process, so integration tests and the bench substitute verifiers
 * (see setUploadVerifiersForTests) that accept `Bearer test:<uid>`; nothing else ever replaces them.
 */
export interface UploadVerifiers {
  /** Resolves to the uid of a valid Firebase ID token; rejects otherwise. */
  idToken: (token: string) => Promise<string>;
  /** Resolves for a valid App Check token; rejects otherwise. */
  appCheck: (token: string) => Promise<void>;
}

const firebaseVerifiers: UploadVerifiers = {
  idToken: async (token) => {
    const { getAuth } = await import("firebase-admin/auth");
    return (await getAuth().verifyIdToken(token)).uid;
  },
  appCheck: async (token) => {
    const { getAppCheck } = await import("firebase-admin/app-check");
    await getAppCheck().verifyToken(token);
  },
};

let verifiers: UploadVerifiers = firebaseVerifiers;

/**
 * TESTS AND BENCH ONLY: replaces the token verifiers (the Auth emulator is not available
 * in-process). Returns a function that restores the firebase-admin verifiers.
 */
export function setUploadVerifiersForTests(replacement: Partial<UploadVerifiers>): () => void {
  verifiers = { ...firebaseVerifiers, ...replacement };
  return () => {
    verifiers = firebaseVerifiers;
  };
}

/** An answer other than 200: HTTP status, HttpsError code, stable reason, user-facing message. */
class UploadRejection extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly reason: string,
    message: string,
    /** Set for a refusal worth retrying soon (a busy instance): also sent as `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "UploadRejection";
  }
}

const reject = (status: number, code: ErrorCode, reason: string, message: string) => new UploadRejection(status, code, reason, message);
const invalid = (status: number, reason: string, message: string) => reject(status, "invalid-argument", reason, message);
const megabytes = (n: number) => `${Math.round((n / 1_000_000) * 10) / 10} MB`;
const ONE_PART = `send exactly one part, a file named ${FILE_FIELD}`;

/** What the Functions framework hands us: an Express request, whose body may already be read. */
export type UploadRequest = IncomingMessage & { rawBody?: Buffer };

/**
 * Handles one request. Never throws: every outcome is an answer (or, for a client that has gone,
 * a cleanup). Resolves once the answer is sent and nothing is left behind.
 */
export async function handleUploadRequest(req: UploadRequest, res: ServerResponse): Promise<void> {
  let uid: string | undefined;
  let gpc: Promise<void> | undefined;
  try {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      throw reject(405, "invalid-argument", "method-not-allowed", "uploadImage accepts POST requests only");
    }
    uid = await authenticate(req);
    // Global Privacy Control is an opt-out here too (privacy/choices.ts); it never fails the upload.
    if (sendsGpc(req.headers)) gpc = import("../privacy/choices.js").then((m) => m.honourGpcSignal(uid!, FN)).catch(() => undefined);
    const body = await admitUpload(req, res, () => receiveUpload(req, res, uid!));
    if (!body) return void (await gpc); // the client went away; the partial upload is already gone
    await gpc;
    if (!canAnswer(res)) {
      // The connection closed after the form's last byte: nobody can learn this uploadId, so the
      // photo may not wait for the purge.
      logs.requestRejected(FN, "cancelled", "client-disconnected");
      await deleteTransient(transientPaths.upload(uid, body.uploadId));
      return;
    }
    logs.uploadStored(body.uploadId, body.bytes, body.mime);
    sendJson(res, 200, { uploadId: body.uploadId, expiresAt: body.expiresAt } satisfies UploadResponse);
  } catch (caught) {
    await gpc;
    let error = caught;
    if (isTransientBackendError(error)) {
      // Storage (or Firestore) briefly down: a documented, retryable answer rather than internal.
      const { errorName, errorCode } = errorSummary(error);
      logs.backendUnavailable(FN, errorName, errorCode);
      error = new UploadRejection(503, "unavailable", "backend-unavailable", "Photo Fixer's storage is briefly unavailable; try again in a few seconds.", BACKEND_RETRY_AFTER_SECONDS);
    }
    if (error instanceof UploadRejection) {
      logs.requestRejected(FN, error.code, error.reason);
      const { retryAfterSeconds } = error;
      if (retryAfterSeconds !== undefined && !res.headersSent) res.setHeader("Retry-After", String(retryAfterSeconds));
      sendJson(res, error.status, { error: { code: error.code, message: redactText(error.message), reason: error.reason, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) } });
    } else {
      // A bug or a Storage failure: the client gets a correlation id, the log the same id and a code.
      const correlationId = randomUUID();
      const { errorName, errorCode } = errorSummary(error);
      logs.internalError(correlationId, FN, errorName, errorCode);
      sendJson(res, 500, {
        error: { code: "internal", message: `Something went wrong on our side (reference ${correlationId}).`, reason: "internal" },
      });
    }
  }
}

/**
 * Admission control (capacity/admission.ts): the body is charged against the instance's memory
 * budget before it is parsed; a busy instance answers 503 unavailable/instance-busy with
 * Retry-After. A client that goes away while waiting leaves the queue.
 */
async function admitUpload<T>(req: UploadRequest, res: ServerResponse, receive: () => Promise<T>): Promise<T> {
  const { uploadBytes, withAdmission } = await import("../capacity/admission.js");
  const maxBodyBytes = settings().maxImageBytes + MULTIPART_OVERHEAD_BYTES;
  const declared = Number(req.headers["content-length"]);
  const size = Buffer.isBuffer(req.rawBody) ? req.rawBody.length : Number.isFinite(declared) && declared > 0 ? declared : maxBodyBytes;
  const gone = new AbortController();
  const abort = () => gone.abort();
  res.once("close", abort);
  try {
    return await withAdmission("uploadImage", uploadBytes(Math.min(size, maxBodyBytes)), receive, gone.signal);
  } catch (error) {
    if (!(error instanceof AppError) || error.reason !== "instance-busy") throw error;
    throw new UploadRejection(503, "unavailable", "instance-busy", error.message, error.details?.retryAfterSeconds ?? 1);
  } finally {
    res.off("close", abort);
  }
}

/** Checks the tokens from the headers alone; the body is untouched until this returns. */
async function authenticate(req: IncomingMessage): Promise<string> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
  if (!bearer) throw reject(401, "unauthenticated", "missing-id-token", "Sign in to use Photo Fixer (send Authorization: Bearer <Firebase ID token>).");
  let uid: string;
  try {
    uid = await verifiers.idToken(bearer);
  } catch {
    throw reject(401, "unauthenticated", "invalid-id-token", "Sign in to use Photo Fixer (the ID token is invalid or expired).");
  }
  if (!uid) throw reject(401, "unauthenticated", "invalid-id-token", "Sign in to use Photo Fixer (the ID token is invalid or expired).");
  if (!isEmulator()) {
    const appCheck = req.headers["x-firebase-appcheck"];
    const token = typeof appCheck === "string" ? appCheck.trim() : "";
    if (!token) throw reject(403, "permission-denied", "missing-app-check", "This app could not be verified (App Check).");
    try {
      await verifiers.appCheck(token);
    } catch {
      throw reject(403, "permission-denied", "invalid-app-check", "This app could not be verified (App Check).");
    }
  }
  return uid;
}

interface StoredUpload {
  uploadId: string;
  expiresAt: string;
  bytes: number;
  mime: ImageMime;
}

/**
 * Parses the body and streams its one file into Storage. Resolves with the stored upload, or
 * undefined when the client disconnected; rejects with an UploadRejection (or a Storage error)
 * only after the partial object is gone.
 */
function receiveUpload(req: UploadRequest, res: ServerResponse, uid: string): Promise<StoredUpload | undefined> {
  const s = settings();
  const maxBytes = s.maxImageBytes;
  const maxBodyBytes = maxBytes + MULTIPART_OVERHEAD_BYTES;

  const contentType = req.headers["content-type"] ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    return Promise.reject(invalid(415, "not-multipart", `uploadImage takes multipart/form-data: ${ONE_PART}`));
  }
  const declaredLength = Number(req.headers["content-length"]);
  const rawBody = Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
  if ((Number.isFinite(declaredLength) && declaredLength > maxBodyBytes) || (rawBody && rawBody.length > maxBodyBytes)) {
    return Promise.reject(invalid(413, "image-too-large", `${FILE_FIELD} is too large (the limit is ${megabytes(maxBytes)})`));
  }

  let bb: busboy.Busboy;
  try {
    // fileSize is cap + 1: busboy flags a file as truncated once it reaches the limit, and a file
    // of exactly MAX_IMAGE_BYTES is allowed (the same rule as inspectImage).
    bb = busboy({ headers: req.headers, limits: { fileSize: maxBytes + 1, files: 1, fields: 0, parts: 2, headerPairs: 20 } });
  } catch {
    return Promise.reject(invalid(400, "malformed-multipart", `the multipart body could not be parsed: ${ONE_PART}`));
  }

  const uploadId = randomBytes(24).toString("base64url"); // 32 characters of [A-Za-z0-9_-]
  const path = transientPaths.upload(uid, uploadId);
  const deleteAt = Date.now() + s.uploadTtlMinutes * 60_000;

  return new Promise<StoredUpload | undefined>((resolve, rejectPromise) => {
    let settled = false;
    let fileSeen = false;
    let parsed = false;
    let stored = false;
    let bytes = 0;
    let mime: ImageMime | undefined;
    let fileStream: Readable | undefined;
    let out: Writable | undefined;
    let outEnded = false;
    let received = 0;

    const stopReading = () => {
      fileStream?.resume(); // let busboy discard the rest of the file
      if (!rawBody) {
        req.unpipe(bb);
        req.resume(); // drain what is still coming so the client can read the answer
      }
    };

    /** Removes whatever was written, then answers. Idempotent; the first outcome wins. */
    const fail = (error: unknown, clientGone = false) => {
      if (settled) return;
      settled = true;
      stopReading();
      void removePartial().then(
        () => (clientGone ? resolve(undefined) : rejectPromise(error)),
        (cleanupError: unknown) => rejectPromise(clientGone ? cleanupError : error),
      );
    };

    const removePartial = async () => {
      if (out) {
        // Not yet finalised: abort, so the resumable session never becomes an object. Already
        // finalising: let it finish, or a delete could run before the object appears.
        if (!outEnded) out.destroy();
        await settledStream(out);
      }
      try {
        await deleteTransient(path);
      } catch (error) {
        logs.transientDeleteFailed(undefined, errorSummary(error).errorCode);
        throw error;
      }
    };

    const succeedIfDone = () => {
      if (settled || !parsed) return;
      if (!fileSeen) return fail(invalid(400, "upload-missing-file", `no file part named ${FILE_FIELD}: ${ONE_PART}`));
      if (!stored) return; // the Storage upload is still finishing
      settled = true;
      resolve({ uploadId, expiresAt: new Date(deleteAt).toISOString(), bytes, mime: mime! });
    };

    /** Sniffs the head, then opens the resumable upload under the sniffed type. */
    const openUpload = (head: Buffer, declared: string): boolean => {
      const problem = checkHead(head, declared);
      if (problem) {
        fail(problem);
        return false;
      }
      mime = sniffImageType(head)!;
      try {
        out = openTransientWriteStream(path, mime, { uid, kind: "uploads", deleteAt: String(deleteAt) });
      } catch (error) {
        // Thrown inside a stream event: answered as internal rather than crashing the instance.
        fail(error);
        return false;
      }
      out.on("error", (error) => fail(error));
      out.on("finish", () => {
        stored = true;
        succeedIfDone();
      });
      out.write(head);
      return true;
    };

    bb.on("file", (name, stream, info) => {
      if (settled) return discard(stream);
      if (fileSeen) {
        discard(stream);
        return fail(invalid(400, "upload-extra-part", `more than one part: ${ONE_PART}`));
      }
      if (name !== FILE_FIELD) {
        discard(stream);
        return fail(invalid(400, "upload-wrong-part", `the file part must be named ${FILE_FIELD}: ${ONE_PART}`));
      }
      fileSeen = true;
      fileStream = stream;
      const headChunks: Buffer[] = [];
      let headLength = 0;

      stream.on("limit", () => fail(invalid(413, "image-too-large", `${FILE_FIELD} is too large (the limit is ${megabytes(maxBytes)})`)));
      stream.on("error", () => fail(invalid(400, "upload-truncated", `${FILE_FIELD} is incomplete (the upload ended early)`)));
      stream.on("data", (chunk: Buffer) => {
        if (settled) return;
        bytes += chunk.length;
        if (!out) {
          headChunks.push(chunk);
          headLength += chunk.length;
          if (headLength >= SNIFF_BYTES) openUpload(Buffer.concat(headChunks), info.mimeType);
          return;
        }
        if (!out.write(chunk)) {
          stream.pause();
          out.once("drain", () => stream.resume());
        }
      });
      stream.on("end", () => {
        if (settled) return;
        if ((stream as Readable & { truncated?: boolean }).truncated) {
          return fail(invalid(413, "image-too-large", `${FILE_FIELD} is too large (the limit is ${megabytes(maxBytes)})`));
        }
        if (!out) {
          if (headLength === 0) return fail(invalid(400, "image-empty", `${FILE_FIELD} is empty`));
          if (!openUpload(Buffer.concat(headChunks), info.mimeType)) return;
        }
        outEnded = true;
        out!.end();
      });
    });
    bb.on("fieldsLimit", () => fail(invalid(400, "upload-extra-part", `unexpected form field (a file part needs a filename): ${ONE_PART}`)));
    bb.on("filesLimit", () => fail(invalid(400, "upload-extra-part", `more than one file: ${ONE_PART}`)));
    bb.on("partsLimit", () => fail(invalid(400, "upload-extra-part", `more than one part: ${ONE_PART}`)));
    bb.on("error", () => fail(invalid(400, "upload-truncated", `the multipart body is malformed or incomplete (the upload may have been cut off): ${ONE_PART}`)));
    bb.on("close", () => {
      parsed = true;
      succeedIfDone();
    });

    if (rawBody) {
      bb.end(rawBody);
      return;
    }
    req.pipe(bb);
    // A live socket: count what arrives, so a hostile body is not drained forever, and notice a
    // client that goes away before the body is complete.
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxBodyBytes) return;
      if (!settled) {
        if (!res.headersSent) res.setHeader("Connection", "close");
        fail(invalid(413, "image-too-large", `${FILE_FIELD} is too large (the limit is ${megabytes(maxBytes)})`));
      } else if (res.writableFinished) {
        req.destroy(); // answered already; stop reading an oversized body
      }
    });
    const onGone = () => {
      if (!req.complete) {
        if (!settled) logs.requestRejected(FN, "cancelled", "client-disconnected");
        fail(undefined, true);
      }
    };
    req.on("error", onGone);
    req.on("close", onGone);
    res.on("close", () => {
      if (!res.writableFinished) onGone();
    });
  });
}

/** Sniffs the first bytes against the declared part type; returns the rejection, if any. */
function checkHead(head: Buffer, declaredType: string): UploadRejection | undefined {
  const sniffed = sniffImageType(head);
  if (!sniffed) {
    const kind = describeNonImage(head);
    if (OTHER_IMAGE_KINDS.has(kind)) {
      return invalid(415, "image-unsupported-type", `${FILE_FIELD} type ${kind} is not supported; send ${ACCEPTED_LIST}`);
    }
    return invalid(415, "image-not-an-image", `${FILE_FIELD} is not an image (looks like ${kind}); send ${ACCEPTED_LIST}`);
  }
  const declaredMime = declaredType.toLowerCase();
  if (UNDECLARED_TYPES.has(declaredMime)) return undefined;
  const declared = normaliseDeclaredMime(declaredMime);
  if (!declared) {
    // Not echoed: a declared type outside the accepted list is client text.
    return invalid(400, "image-type-mismatch", `${FILE_FIELD} content is ${sniffed} but its declared content type is something else`);
  }
  if (!sameFamily(declared, sniffed)) {
    return invalid(400, "image-type-mismatch", `${FILE_FIELD} content is ${sniffed} but its content type says ${declared}`);
  }
  return undefined;
}

/** HEIC is HEIF with HEVC inside; clients label the same file either way (as in validate.ts). */
const sameFamily = (a: ImageMime, b: ImageMime) =>
  a === b || ((a === "image/heic" || a === "image/heif") && (b === "image/heic" || b === "image/heif"));

/**
 * Drains a part we refuse. It needs an error listener: busboy destroys an unfinished part's stream
 * with an error when the body ends early, and an unheard stream error would crash the instance.
 */
function discard(stream: Readable): void {
  stream.on("error", () => undefined);
  stream.resume();
}

/** Resolves once a stream has finished or been torn down, whichever way. */
function settledStream(stream: Writable): Promise<void> {
  if (stream.writableFinished || stream.destroyed) return new Promise((r) => setImmediate(r));
  return new Promise((resolve) => {
    stream.once("finish", () => resolve());
    stream.once("close", () => resolve());
    stream.once("error", () => resolve());
  });
}

/** Whether an answer can still reach the client: nothing sent yet and its connection still open. */
function canAnswer(res: ServerResponse): boolean {
  return !res.headersSent && !res.writableEnded && !res.destroyed && (!res.socket || (res.socket.writable && !res.socket.destroyed));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}
