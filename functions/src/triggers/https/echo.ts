/**
 * `echo`: the load harness's baseline (docs/LOAD.md). It takes any payload through the same
 * wrapper as the real callables (auth, App Check rule, error mapping, request decoding) and answers
 * with its size only, so `createJob`'s own overhead can be told from the platform's. Exported by
 * index.ts only under the Functions emulator (config/params.ts exportsLocalEcho): never deployed.
 */
import { userCallable } from "./callable.js";

export const echo = userCallable("echo", { memory: "1GiB", timeoutSeconds: 540 }, async (_uid, data) => ({
  receivedChars: JSON.stringify(data ?? null).length,
}));
