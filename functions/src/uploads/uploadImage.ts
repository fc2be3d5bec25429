/**
 * The uploadImage service (ARCHITECTURE §3, §5 step 1): one photo, streamed from a multipart body
 * into `transient/uploads/{uid}/{uploadId}` without holding the file in memory, for createJob to
 * consume with `image: { uploadId }`.
 *
 * Order of checks, each answered with `{ error: { code, message, reason } }` (code = an HttpsError
 * code) and an HTTP status:
 *   1. method: POST only (405);
 *   2. Firebase ID token from `Authorization: Bearer` (401 unauthenticated), outside the emulator
 *      the App Check token from `X-Firebase-AppCheck` (403 permission-denied), then the account
 *      still active (401 `account-deleted`, `account-disabled`, `token-revoked`; 503 if Auth
 *      cannot be asked: privacy/accountGate.ts), all BEFORE a byte of the body is read;
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
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable, Writable } from "node:stream";
import busboy from "busboy";
import { settings } from "../config/params.js";
import { AppError, type ErrorCode } from "../errors.js";
import { normaliseDeclaredMime } from "../images/validate.js";
import { describeNonImage, OTHER_IMAGE_KINDS, sniffImageType } from "../images/sniff.js";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import { transientPaths } from "../storage/paths.js";
import { deleteTransient, openTransientWriteStream } from "../storage/transientStore.js";
import { uploadMetadata } from "./uploadRecord.js";
import type { ImageMime } from "../providers/types.js";

export const FN = "uploadImage";
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

/** An answer other than 200: HTTP status, HttpsError code, stable reason, user-facing message. */
export class UploadRejection extends AppError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    reason: string,
    message: string,
    /** Set for a refusal worth retrying soon (a busy instance): also sent as `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, reason, retryAfterSeconds === undefined ? undefined : { retryAfterSeconds });
    this.name = "UploadRejection";
  }
}

export const isUploadRejection = (error: unknown): error is UploadRejection => error instanceof UploadRejection;

export const reject = (status: number, code: ErrorCode, reason: string, message: string) => new UploadRejection(status, code, reason, message);
const invalid = (status: number, reason: string, message: string) => reject(status, "invalid-argument", reason, message);
const megabytes = (n: number) => `${Math.round((n / 1_000_000) * 10) / 10} MB`;
const ONE_PART = `send exactly one part, a file named ${FILE_FIELD}`;

/** What the Functions framework hands us: an Express request, whose body may already be read. */
export type UploadRequest = IncomingMessage & { rawBody?: Buffer };

/**
 * Admission control (capacity/admission.ts): the body is charged against the instance's memory
 * budget before it is parsed; a busy instance answers 503 unavailable/instance-busy with
 * Retry-After. A client that goes away while waiting leaves the queue.
 */
export async function admitUpload<T>(req: UploadRequest, res: ServerResponse, receive: () => Promise<T>): Promise<T> {
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

export interface StoredUpload {
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
export function receiveUpload(req: UploadRequest, res: ServerResponse, uid: string): Promise<StoredUpload | undefined> {
  const maxBytes = settings().maxImageBytes;
  const maxBodyBytes = maxBytes + MULTIPART_OVERHEAD_BYTES;
  if (!/^multipart\/form-data\s*;/i.test(req.headers["content-type"] ?? "")) {
    return Promise.reject(invalid(415, "not-multipart", `uploadImage takes multipart/form-data: ${ONE_PART}`));
  }
  const declaredLength = Number(req.headers["content-length"]);
  const rawBody = Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
  if ((Number.isFinite(declaredLength) && declaredLength > maxBodyBytes) || (rawBody && rawBody.length > maxBodyBytes)) {
    return Promise.reject(tooLarge(maxBytes));
  }
  let parser: busboy.Busboy;
  try {
    // fileSize is cap + 1: busboy flags a file as truncated once it reaches the limit, and a file
    // of exactly MAX_IMAGE_BYTES is allowed (the same rule as inspectImage).
    parser = busboy({ headers: req.headers, limits: { fileSize: maxBytes + 1, files: 1, fields: 0, parts: 2, headerPairs: 20 } });
  } catch {
    return Promise.reject(notOnePart("malformed-multipart", "the multipart body could not be parsed"));
  }
  return new UploadReceipt(req, res, parser, uid, rawBody).done;
}

/** A 400 for a body that is not exactly one file part named `file`. */
const notOnePart = (reason: string, problem: string) => invalid(400, reason, `${problem}: ${ONE_PART}`);
const tooLarge = (maxBytes: number) => invalid(413, "image-too-large", `${FILE_FIELD} is too large (the limit is ${megabytes(maxBytes)})`);

/**
 * Where one upload is: the file part not seen yet; its bytes arriving (the head held until it is
 * sniffed, then streamed to Storage); the part complete and Storage finalising the object; or
 * over, one of three ways:
 *
 *   awaitingFile → receiving → finishing → stored
 *        └────────────┴────────────┴──────→ failed (a refusal or a Storage error)
 *                                         → aborted (the client went away)
 */
type Phase = "awaitingFile" | "receiving" | "finishing" | "stored" | "failed" | "aborted";
const OVER: ReadonlySet<Phase> = new Set(["stored", "failed", "aborted"]);

/**
 * One upload's receive loop. Every event (busboy's, the file part's, the Storage stream's, the
 * socket's) is one method below; `end` is the one place an upload ends, decides the cleanup
 * (every end but `stored` removes the partial object first) and settles `done`.
 */
class UploadReceipt {
  readonly done: Promise<StoredUpload | undefined>;
  private phase: Phase = "awaitingFile";
  private readonly uploadId = randomBytes(24).toString("base64url"); // 32 characters of [A-Za-z0-9_-]
  private readonly path: string;
  private readonly deleteAt = Date.now() + settings().uploadTtlMinutes * 60_000;
  private readonly maxBytes = settings().maxImageBytes;
  private part?: Readable;
  /** The first bytes of the file, held until there are enough to sniff; then `out` is open. */
  private head: Buffer[] = [];
  private out?: Writable;
  private mime?: ImageMime;
  private bytes = 0;
  private parsed = false;
  private written = false;
  private settle!: { resolve: (upload: StoredUpload | undefined) => void; reject: (error: unknown) => void };

  constructor(
    private readonly req: UploadRequest,
    private readonly res: ServerResponse,
    private readonly parser: busboy.Busboy,
    private readonly uid: string,
    private readonly rawBody: Buffer | undefined,
  ) {
    this.path = transientPaths.upload(uid, this.uploadId);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    const refuse = (reason: string, problem: string) => () => this.end("failed", notOnePart(reason, problem));
    parser.on("file", (name, stream, info) => this.onFile(name, stream, info.mimeType));
    parser.on("fieldsLimit", refuse("upload-extra-part", "unexpected form field (a file part needs a filename)"));
    parser.on("filesLimit", refuse("upload-extra-part", "more than one file"));
    parser.on("partsLimit", refuse("upload-extra-part", "more than one part"));
    parser.on("error", refuse("upload-truncated", "the multipart body is malformed or incomplete (the upload may have been cut off)"));
    parser.on("close", () => this.onProgress("parsed"));
    if (rawBody) parser.end(rawBody);
    else this.readSocket();
  }

  private get over(): boolean {
    return OVER.has(this.phase);
  }

  private onFile(name: string, stream: Readable, declaredType: string): void {
    if (this.phase !== "awaitingFile" || name !== FILE_FIELD) {
      discard(stream);
      if (this.over) return;
      if (this.phase !== "awaitingFile") return this.end("failed", notOnePart("upload-extra-part", "more than one part"));
      return this.end("failed", notOnePart("upload-wrong-part", `the file part must be named ${FILE_FIELD}`));
    }
    this.phase = "receiving";
    this.part = stream;
    stream.on("limit", () => this.end("failed", tooLarge(this.maxBytes)));
    stream.on("error", () => this.end("failed", invalid(400, "upload-truncated", `${FILE_FIELD} is incomplete (the upload ended early)`)));
    stream.on("data", (chunk: Buffer) => this.onChunk(chunk, declaredType));
    stream.on("end", () => this.onFileEnd(declaredType));
  }

  private onChunk(chunk: Buffer, declaredType: string): void {
    if (this.phase !== "receiving") return;
    this.bytes += chunk.length;
    if (!this.out) {
      this.head.push(chunk);
      if (this.bytes >= SNIFF_BYTES) this.openUpload(declaredType);
    } else if (!this.out.write(chunk)) {
      this.part!.pause();
      this.out.once("drain", () => this.part!.resume());
    }
  }

  private onFileEnd(declaredType: string): void {
    if (this.phase !== "receiving") return;
    if ((this.part as Readable & { truncated?: boolean }).truncated) return this.end("failed", tooLarge(this.maxBytes));
    if (this.bytes === 0) return this.end("failed", invalid(400, "image-empty", `${FILE_FIELD} is empty`));
    if (!this.out && !this.openUpload(declaredType)) return;
    this.phase = "finishing";
    this.out!.end();
  }

  /** Sniffs the head, then opens the resumable upload under the sniffed type and writes the head. */
  private openUpload(declaredType: string): boolean {
    const head = Buffer.concat(this.head);
    this.head = [];
    try {
      const problem = checkHead(head, declaredType);
      if (problem) throw problem;
      this.mime = sniffImageType(head)!;
      this.out = openTransientWriteStream(this.path, this.mime, uploadMetadata(this.uid, this.deleteAt));
    } catch (error) {
      // A Storage error thrown inside a stream event is answered as internal, not a crash.
      this.end("failed", error);
      return false;
    }
    this.out.on("error", (error) => this.end("failed", error));
    this.out.on("finish", () => this.onProgress("written"));
    this.out.write(head);
    return true;
  }

  /** Busboy has read the whole body, or Storage has the whole object: stored once both are true. */
  private onProgress(done: "parsed" | "written"): void {
    this[done] = true;
    if (this.over || !this.parsed) return;
    if (this.phase === "awaitingFile") return this.end("failed", notOnePart("upload-missing-file", `no file part named ${FILE_FIELD}`));
    if (this.written) this.end("stored");
  }

  /**
   * A live socket: count what arrives, so a hostile body is not drained forever, and notice a
   * client that goes away before the body is complete.
   */
  private readSocket(): void {
    const { req, res } = this;
    req.pipe(this.parser);
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received <= this.maxBytes + MULTIPART_OVERHEAD_BYTES) return;
      if (!this.over) {
        if (!res.headersSent) res.setHeader("Connection", "close");
        this.end("failed", tooLarge(this.maxBytes));
      } else if (res.writableFinished) {
        req.destroy(); // answered already; stop reading an oversized body
      }
    });
    const onGone = () => {
      if (!req.complete) this.end("aborted");
    };
    req.on("error", onGone);
    req.on("close", onGone);
    res.on("close", () => {
      if (!res.writableFinished) onGone();
    });
    // The socket may have closed while the tokens were checked: its "close" has fired already and
    // nothing more will arrive, so nobody could learn an uploadId. Without this the request hangs.
    if (req.destroyed || res.destroyed) this.end("aborted");
  }

  /**
   * The one place an upload ends; the first end wins. `stored` resolves with the upload; `failed`
   * and `aborted` stop reading, remove whatever was written, and only then reject with the error
   * (failed) or resolve with undefined (aborted: nobody is left to answer).
   */
  private end(phase: "stored" | "failed" | "aborted", error?: unknown): void {
    if (this.over) return;
    const finalising = this.phase === "finishing";
    this.phase = phase;
    if (phase === "stored") {
      return this.settle.resolve({ uploadId: this.uploadId, expiresAt: new Date(this.deleteAt).toISOString(), bytes: this.bytes, mime: this.mime! });
    }
    if (phase === "aborted") logs.requestRejected(FN, "cancelled", "client-disconnected");
    this.part?.resume(); // let busboy discard the rest of the file
    if (!this.rawBody) {
      this.req.unpipe(this.parser);
      this.req.resume(); // drain what is still coming so the client can read the answer
    }
    void this.removePartial(finalising).then(
      () => (phase === "aborted" ? this.settle.resolve(undefined) : this.settle.reject(error)),
      (cleanupError: unknown) => this.settle.reject(phase === "aborted" ? cleanupError : error),
    );
  }

  private async removePartial(finalising: boolean): Promise<void> {
    if (this.out) {
      // Not yet finalising: abort, so the resumable session never becomes an object. Already
      // finalising: let it finish, or a delete could run before the object appears.
      if (!finalising) this.out.destroy();
      await settledStream(this.out);
    }
    try {
      await deleteTransient(this.path);
    } catch (error) {
      logs.transientDeleteFailed(undefined, errorSummary(error).errorCode);
      throw error;
    }
  }
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
const sameFamily = (a: ImageMime, b: ImageMime) => a === b || ((a === "image/heic" || a === "image/heif") && (b === "image/heic" || b === "image/heif"));

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
