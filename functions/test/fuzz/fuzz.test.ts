/**
 * The quick fuzz subset for `npm test` (issue 5, item 7): a fixed seed, a few hundred cases through
 * the real callables against the offline backends. `npm run fuzz` runs thousands (fuzz.main.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { useBackends } from "../support/backends.js";
import { runFuzz } from "./runFuzz.js";
import { runUploadFuzz } from "./runUploadFuzz.js";

useBackends();

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_105);
const CASES = Number(process.env.FUZZ_CASES ?? 300);
const UPLOAD_CASES = Number(process.env.FUZZ_UPLOAD_CASES ?? 200);

test(`fuzz: ${CASES} structure-aware cases (seed ${SEED}) answer documented codes and leave nothing behind`, { timeout: 120_000 }, async (t) => {
  const report = await runFuzz({ seed: SEED, cases: CASES });
  const codes = Object.entries(report.outcomes)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  t.diagnostic(`fuzz: ${report.passed} passed, ${report.failed} failed (seed ${SEED}, ${report.durationMs} ms, ${report.decodedJobs} decoded) ${codes}`);
  assert.equal(report.failures.length, 0, report.failures.map((f) => `case ${f.index} [${f.tags.join(" ")}]: ${f.problem}\n  repro: ${f.repro}`).join("\n"));
  assert.equal(report.cases, CASES);
});

test(
  `fuzz: ${UPLOAD_CASES} hostile uploadImage requests (seed ${SEED}) answer 200 or a documented 4xx, never crash, and leave no partial object`,
  { timeout: 120_000 },
  async (t) => {
    const report = await runUploadFuzz({ seed: SEED, cases: UPLOAD_CASES });
    const statuses = Object.entries(report.outcomes)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    t.diagnostic(
      `fuzz uploads: ${report.passed} passed, ${report.failed} failed (seed ${SEED}, ${report.durationMs} ms, ${report.stored} stored, ${report.consumed} taken by createJob) ${statuses}`,
    );
    assert.equal(report.failures.length, 0, report.failures.map((f) => `case ${f.index} [${f.tags.join(" ")}]: ${f.problem}\n  repro: ${f.repro}`).join("\n"));
    assert.equal(report.cases, UPLOAD_CASES);
    assert.ok(report.stored > 0 && report.outcomes["400"]! > 0 && report.outcomes["401"]! > 0, "the subset reaches both stored uploads and refusals");
  },
);
