/**
 * `uploadImage` (ARCHITECTURE §3): multipart `file` + `Authorization: Bearer <ID token>`
 * (+ `X-Firebase-AppCheck`) → `{ uploadId, expiresAt }`. A thin onRequest wrapper: the tokens are
 * verified in code (uploads/uploadImage.ts), so the function itself is publicly invokable; CORS is
 * open because the request carries a bearer token, never cookies. The service is imported on first
 * request so loading the index stays cheap.
 */
import { onRequest } from "firebase-functions/v2/https";
import { PRIVACY_RECORD_SALT } from "../../privacy/salt.js";
import { SHAPES } from "../shapes.js";

export const uploadImage = onRequest(
  // Photos are streamed to Storage, never held whole by our code, but the framework holds each
  // body first: the shape bounds how many (docs/CAPACITY.md). The salt: a `Sec-GPC: 1` upload
  // records an opt-out request (privacy/choices.ts).
  { ...SHAPES.uploadImage, cors: true, invoker: "public", secrets: [PRIVACY_RECORD_SALT] },
  async (req, res) => (await import("../../uploads/uploadImage.js")).handleUploadRequest(req, res),
);
