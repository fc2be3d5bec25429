import assert from "node:assert/strict";
import { test } from "node:test";
import { JOB_STATUSES, TERMINAL_STATUSES } from "../domain/jobStatus.js";
import * as state from "./state.js";

test("terminal states never change and only non-terminal states advance", () => {
  for (const from of JOB_STATUSES) {
    for (const to of JOB_STATUSES) {
      const allowed = state.canTransition(from, to);
      if (TERMINAL_STATUSES.includes(from)) assert.equal(allowed, false, `${from} -> ${to}`);
      if (to === "queued") assert.equal(allowed, false, `nothing goes back to queued (${from})`);
    }
  }
  assert.ok(state.canTransition("queued", "running"));
  assert.ok(state.canTransition("running", "succeeded"));
  assert.ok(state.canTransition("running", "expired"));
});

test("a queued job has the status fields only, input not yet deleted, and a deadline", () => {
  const job = state.queuedJob({ uid: "u1", requestId: "r", feature: "style", provider: "local", model: "m", now: 1_000, deadlineMs: 60_000 });
  assert.equal(job.status, "queued");
  assert.equal(job.inputDeleted, false);
  assert.equal(job.deadlineAt.toMillis(), 61_000);
  assert.equal(job.attempts, 0);
});

test("every terminal transition records the input as deleted and the duration", () => {
  for (const fields of [
    state.succeededInline(5_000, 2_000),
    state.failed(5_000, { code: "x", message: "y" }, 2_000),
    state.cancelled(5_000, 2_000),
    state.expired(5_000, 2_000),
  ]) {
    assert.equal(fields.inputDeleted, true);
    assert.equal(fields.durationMs, 3_000);
    assert.equal(fields.finishedAt?.toMillis(), 5_000);
  }
  assert.equal(state.succeededInline(5_000, 2_000).resultDeleted, true, "inline results are never held");
  assert.equal(state.expired(5_000).error?.code, "deadline-exceeded");
});
