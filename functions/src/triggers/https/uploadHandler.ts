/**
 * uploadImage's HTTP shell: POST only, then the entry guard (entryGuard.ts: the tokens from the
 * headers, the account gate, GPC), all BEFORE a byte of the body is read; then admission and the
 * streamed receive (uploads/uploadImage.ts); then one answer, `{ uploadId, expiresAt }` or
 * `{ error: { code, message, reason } }` with an HTTP status, from the guard's one error classifier.
 * The token verifiers are a parameter: firebase-admin's in production (triggers/https/uploadImage.ts),
 * fakes in tests and the bench, where the Auth emulator does not run in-process.
 */
import type { ServerResponse } from "node:http";
import { AppError } from "../../errors.js";
import * as logs from "../../logging/logs.js";
import { assertAccountActive } from "../../privacy/accountGate.js";
import { transientPaths } from "../../storage/paths.js";
import { deleteTransient } from "../../storage/transientStore.js";
import {
  admitUpload,
  FN,
  isUploadRejection,
  receiveUpload,
  reject,
  UploadRejection,
  type UploadRequest,
  type UploadResponse,
} from "../../uploads/uploadImage.js";
import { admitCaller, authenticateHeaders, classifyError, firebaseTokenVerifiers, type TokenVerifiers } from "./entryGuard.js";

export type UploadHandler = (req: UploadRequest, res: ServerResponse) => Promise<void>;

/** The guard's refusals as upload answers: 401 sign-in, 403 App Check, 503 when Auth cannot be asked. */
function asUploadRejection(error: unknown): never {
  if (!(error instanceof AppError)) throw error;
  const status = error.code === "unauthenticated" ? 401 : error.code === "permission-denied" ? 403 : 503;
  throw reject(status, error.code, error.reason, error.message);
}

/**
 * Handles one request. Never throws: every outcome is an answer (or, for a client that has gone,
 * a cleanup). Resolves once the answer is sent and nothing is left behind.
 */
export function createUploadHandler(verifiers: TokenVerifiers = firebaseTokenVerifiers): UploadHandler {
  return async (req, res) => {
    let gpc: Promise<void> | undefined;
    try {
      if (req.method !== "POST") {
        res.setHeader("Allow", "POST");
        throw reject(405, "invalid-argument", "method-not-allowed", "uploadImage accepts POST requests only");
      }
      const { uid, claims } = await authenticateHeaders(req.headers, verifiers).catch(asUploadRejection);
      ({ gpc } = await admitCaller(FN, uid, claims, req.headers, { assertAccountActive }).catch(asUploadRejection));
      const body = await admitUpload(req, res, () => receiveUpload(req, res, uid));
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
    } catch (error) {
      await gpc;
      // A bug or a Storage failure is `internal` with a correlation id; only rejections are answers.
      const classified = await classifyError(
        FN,
        error,
        isUploadRejection,
        (refusal) => new UploadRejection(503, refusal.code, refusal.reason, refusal.message, refusal.details?.retryAfterSeconds as number | undefined),
      );
      if (classified.kind === "refused" && isUploadRejection(classified.error)) {
        const { status, retryAfterSeconds } = classified.error;
        if (retryAfterSeconds !== undefined && !res.headersSent) res.setHeader("Retry-After", String(retryAfterSeconds));
        sendJson(res, status, {
          error: {
            code: classified.code,
            message: classified.message,
            reason: classified.reason,
            ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
          },
        });
      } else {
        sendJson(res, 500, { error: { code: "internal", message: classified.message, reason: "internal" } });
      }
    }
  };
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
