// Placeholder while the foundation is built: one callable to prove the stack.
import { onCall } from "firebase-functions/v2/https";
export const ping = onCall((req) => ({ uid: req.auth?.uid ?? null }));
