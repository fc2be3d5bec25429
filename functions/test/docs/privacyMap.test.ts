/**
 * PRIVACY.md stays true: every promise names code and at least one test, every path it names
 * exists, and `npm run test:privacy` runs exactly the tests it names.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { privacyTestFiles, readPrivacyMap, REPO_ROOT } from "../../../scripts/privacyMap.js";

const rows = readPrivacyMap();

test("every promise has code that keeps it, a test that proves it, and a status", () => {
  assert.ok(rows.length >= 20, `PRIVACY.md has ${rows.length} promises`);
  assert.deepEqual(
    rows.map((r) => r.id),
    rows.map((_, i) => String(i + 1)),
    "rows are numbered 1..n",
  );
  for (const row of rows) {
    assert.ok(row.code.length > 0, `promise ${row.id} names the code that keeps it`);
    assert.ok(
      row.tests.some((t) => t.endsWith(".test.ts")),
      `promise ${row.id} names a test`,
    );
    assert.match(row.status, /^(proven|not provable here)/, `promise ${row.id} has a status`);
  }
});

test("every path PRIVACY.md names exists", () => {
  const missing = rows.flatMap((row) => [...row.code, ...row.tests].filter((p) => !existsSync(path.join(REPO_ROOT, p))).map((p) => `#${row.id}: ${p}`));
  assert.deepEqual(missing, []);
});

test("test:privacy runs the named tests, the e2e proof of account deletion among them", () => {
  const files = privacyTestFiles(rows);
  assert.ok(files.includes("test/e2e/localStack.e2e.test.ts"));
  assert.ok(files.includes("test/integration/logHygiene.test.ts"));
  assert.ok(files.every((f) => existsSync(path.join(REPO_ROOT, "functions", f))));
});

test("the parser reads paths from the cells, not from prose", () => {
  const [row] = readPrivacyMap("| 1 | a promise | `functions/src/a.ts` (why) | `functions/test/a.test.ts`, and `README.md` | proven |");
  assert.deepEqual(row, { id: "1", promise: "a promise", code: ["functions/src/a.ts"], tests: ["functions/test/a.test.ts", "README.md"], status: "proven" });
});
