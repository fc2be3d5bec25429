/**
 * `uploadImage` (ARCHITECTURE §3): multipart `file` + `Authorization: Bearer <ID token>`
 * (+ `X-Firebase-AppCheck`) → `{ uploadId, expiresAt }`. A thin onRequest wrapper: the tokens are
 * verified in code (uploads/uploadImage.ts), so the function itself is publicly invokable; CORS is
 * open because the request carries a bearer token, never cookies. The service is imported on first
 * request so loading the index stays cheap.
 */
import { onRequest } from "firebase-functions/v2/https";

export const uploadImage = onRequest(
  // Photos are streamed to Storage, never held whole by our code: the default small instance does.
  { cors: true, memory: "256MiB", invoker: "public" },
  async (req, res) => (await import("../../uploads/uploadImage.js")).handleUploadRequest(req, res),
);
