/** Assertions and knobs every provider adapter's test file shares. */
import assert from "node:assert/strict";
import { AppError } from "../../src/errors.js";

/** The AppError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(() => undefined, (e) => e);
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
