/**
 * `uploadImage` (ARCHITECTURE §3): multipart `file` + `Authorization: Bearer <ID token>`
 * (+ `X-Firebase-AppCheck`) → `{ uploadId, expiresAt }`. A thin onRequest wrapper: the tokens are
 * verified in code (uploadHandler.ts, with firebase-admin's verifiers), so the function itself is publicly invokable; CORS is
 * open because the request carries a bearer token, never cookies. The service is imported on first
 * request so loading the index stays cheap.
 */
import { onRequest } from "firebase-functions/v2/https";
import { PRIVACY_RECORD_SALT } from "../../privacy/salt.js";
import { SHAPES } from "../shapes.js";
import type { TokenVerifiers } from "./entryGuard.js";
import type { UploadHandler } from "./uploadHandler.js";

/**
 * The function, with the token verifiers it uses: firebase-admin's unless given (tests and the
 * bench pass fakes, as the Auth emulator does not run in-process).
 */
export function uploadImageFunction(verifiers?: TokenVerifiers) {
  let handler: UploadHandler | undefined;
  return onRequest(
    // Photos are streamed to Storage, never held whole by our code, but the framework holds each
    // body first: the shape bounds how many (docs/CAPACITY.md). The salt: a `Sec-GPC: 1` upload
    // records an opt-out request (privacy/choices.ts).
    { ...SHAPES.uploadImage, cors: true, invoker: "public", secrets: [PRIVACY_RECORD_SALT] },
    async (req, res) => {
      handler ??= (await import("./uploadHandler.js")).createUploadHandler(verifiers);
      await handler(req, res);
    },
  );
}

export const uploadImage = uploadImageFunction();
