/** Assertions and knobs every provider adapter's test file shares. */
import assert from "node:assert/strict";
import { AppError } from "../../src/errors.js";
import type { FakeResponse, FakeServer } from "./fakeServer.js";

/** The submit call an image adapter makes: method and path on the API fake. */
type Route = readonly [method: string, path: string];

/** The AppError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
  return error;
}

/** Runs `fn` with the provider's job deadline cut to `ms` (`<PROVIDER>_POLL_DEADLINE_MS`, see runProvider). */
export async function withPollDeadline<T>(providerId: string, ms: number, fn: () => Promise<T>): Promise<T> {
  const name = `${providerId.toUpperCase()}_POLL_DEADLINE_MS`;
  process.env[name] = String(ms);
  try {
    return await fn();
  } finally {
    delete process.env[name];
  }
}

/**
 * Each answer (a 429 with Retry-After, 5xx) fails the job as unavailable after one request: the
 * image may be generating and billed, so it is never resent. A 429's Retry-After is passed on.
 */
export async function expectSubmitNotRetried(
  api: () => FakeServer,
  [method, path]: Route,
  run: () => Promise<unknown>,
  responses: readonly FakeResponse[],
  retryAfterSeconds: number,
): Promise<void> {
  for (const response of responses) {
    api().reset();
    api().on(method, path, response);
    const error = await failure(run());
    assert.equal(error.code, "unavailable");
    if (response.status === 429) assert.equal(error.details?.retryAfterSeconds, retryAfterSeconds);
    assert.equal(api().callsTo(method, path).length, 1);
  }
}

/** A dropped connection is transient (unavailable); a hang is cut off at the job's deadline, sent once. */
export async function expectDropAndHang(api: () => FakeServer, [method, path]: Route, providerId: string, run: () => Promise<unknown>): Promise<void> {
  api().on(method, path, { drop: true });
  assert.equal((await failure(run())).code, "unavailable");
  api().reset();
  api().on(method, path, { hang: true });
  assert.equal((await withPollDeadline(providerId, 300, () => failure(run()))).code, "deadline-exceeded");
  assert.equal(api().callsTo(method, path).length, 1);
}

/**
 * A result that is not an image fails the job as unavailable; one over the cap (twice
 * MAX_IMAGE_BYTES) fails clearly as too large. `answerWith` scripts an answer carrying the bytes.
 */
export async function expectUnusableResultsFail(answerWith: (bytes: Buffer) => void, run: () => Promise<unknown>): Promise<void> {
  answerWith(Buffer.from("<html>not an image</html>"));
  assert.equal((await failure(run())).code, "unavailable");
  process.env.MAX_IMAGE_BYTES = "100000"; // results are capped at twice this
  try {
    answerWith(Buffer.alloc(300_000, 1));
    const error = await failure(run());
    assert.equal(error.code, "failed-precondition");
    assert.match(error.message, /larger than we accept/);
  } finally {
    delete process.env.MAX_IMAGE_BYTES;
  }
}

/**
 * The result URL's host (`cdn`, at `path`) answering 403 with `expiredBody`, a page that is not an
 * image, or an image over the cap: failed-precondition, unavailable, failed-precondition.
 */
export async function expectResultDownloadFailures(cdn: FakeServer, path: string, expiredBody: string, run: () => Promise<unknown>): Promise<void> {
  for (const [response, code] of [
    [{ status: 403, body: expiredBody }, "failed-precondition"],
    [{ status: 200, body: "<html>not an image</html>" }, "unavailable"],
    [{ status: 200, body: Buffer.alloc(31_000_000, 1) }, "failed-precondition"],
  ] as const) {
    cdn.on("GET", path, response);
    assert.equal((await failure(run())).code, code);
  }
}
