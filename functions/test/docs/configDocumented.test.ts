/**
 * Every setting a deployer can set is in docs/CONFIGURATION.md with its default: each param (defineInt & co.,
 * read from what the functions declare, the same list `firebase deploy` prompts for), each secret
 * (defineSecret), and each environment variable the code reads that the platform does not set
 * (PURGE_SCHEDULE, GOOGLE_CLOUD_LOCATION, the `<PROVIDER>_…` families). Rows are read from docs/CONFIGURATION.md
 * its tables that have a `default` column; the test names what is missing, wrong or stale.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { declaredKnobs, envKnobs, problemsWith, readDefaultTables, REPO_ROOT, secretBindings } from "./configKnobs.js";

const CONFIG_DOC = "docs/CONFIGURATION.md";
const readme = () => readFileSync(path.join(REPO_ROOT, CONFIG_DOC), "utf8");

test("every param, secret and environment setting is in docs/CONFIGURATION.md with its default", async () => {
  const knobs = [...(await declaredKnobs()), ...envKnobs()];
  assert.deepEqual(problemsWith(knobs, readDefaultTables(readme()), CONFIG_DOC), []);
});

test("docs/CONFIGURATION.md documents no setting the code does not have", async () => {
  const known = new Set([...(await declaredKnobs()), ...envKnobs()].map((k) => k.name));
  const stale = readDefaultTables(readme()).flatMap((row) => row.names.filter((n) => !known.has(n)).map((n) => `${CONFIG_DOC}:${row.line}: ${n}`));
  assert.deepEqual(stale, []);
});

test("a secrets table in docs/CONFIGURATION.md's `bound to` column names the functions that bind each secret", async () => {
  const bindings = await secretBindings();
  const problems: string[] = [];
  for (const row of readDefaultTables(readme()).filter((r) => "bound to" in r.cells)) {
    const listed = [...row.cells["bound to"]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!).sort();
    for (const name of row.names) {
      const actual = bindings.get(name) ?? [];
      if (listed.join() !== actual.join())
        problems.push(`${CONFIG_DOC}:${row.line}: ${name} is bound to ${actual.join(", ") || "nothing"}, the doc says ${listed.join(", ")}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("the finders see params, secrets, literal env defaults and env families, and the README parser reads defaults", async () => {
  const declared = await declaredKnobs();
  assert.deepEqual(
    declared.find((k) => k.name === "MAX_IMAGE_BYTES"),
    { name: "MAX_IMAGE_BYTES", kind: "param", where: "declared", default: "15000000" },
  );
  assert.equal(declared.find((k) => k.name === "PRIVACY_RECORD_SALT")?.kind, "secret");
  assert.equal(declared.find((k) => k.name === "OPENAI_API_KEY")?.kind, "secret");
  const env = envKnobs();
  assert.equal(env.find((k) => k.name === "PURGE_SCHEDULE")?.default, "every 10 minutes");
  assert.ok(env.some((k) => k.name === "<PROVIDER>_BASE_URL" && k.kind === "env family"));
  assert.ok(!env.some((k) => k.name === "K_SERVICE"), "platform variables are not settings");

  const rows = readDefaultTables(
    ["| param | default | meaning |", "| --- | --- | --- |", "| `A_B` (env) | 1,000 | x \\| y |", "", "| other | cols |", "| --- | --- |", "| `C` | 2 |"].join(
      "\n",
    ),
  );
  assert.deepEqual(
    rows.map((r) => [r.names, r.cells.default, r.cells.meaning, r.line]),
    [[["A_B"], "1,000", "x \\| y", 3]],
  );
  assert.deepEqual(problemsWith([{ name: "A_B", kind: "param", default: "1000", where: "t" }], rows), []);
  assert.equal(problemsWith([{ name: "A_B", kind: "param", default: "2000", where: "t" }], rows).length, 1);
  assert.equal(problemsWith([{ name: "MISSING", kind: "secret", where: "t" }], rows).length, 1);
});
