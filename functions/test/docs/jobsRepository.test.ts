/**
 * One home for job documents: only jobs/repository.ts reaches `jobs/{jobId}` by name. Everything
 * else (video polling, the purge, owner actions, statistics) goes through its named functions, so a
 * write is always one of the transitions it offers. The generic walkers over paths.ts's locations
 * (deletion, export, retention, the audit) reach collections by their description, never by the
 * `jobs` name, and are not matched here.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const SRC = path.resolve(__dirname, "../../src");
const REPOSITORY = "jobs/repository.ts";

/** A Firestore access (`.doc(`, `.collection(`, `.collectionGroup(`) whose path names the jobs collection. */
const JOB_ACCESS = /\.(?:doc|collection|collectionGroup)\(\s*(?:firestorePaths\.jobs?\b|["'`]jobs(?:["'`]|\/))/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

function jobAccessOutsideRepository(files: string[] = sourceFiles(SRC)): string[] {
  const found: string[] = [];
  for (const file of files) {
    const relative = path.relative(SRC, file).split(path.sep).join("/");
    if (relative === REPOSITORY) continue;
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(JOB_ACCESS)) {
      const line = text.slice(0, match.index).split("\n").length;
      found.push(`${relative}:${line}: ${match[0].replace(/\s+/g, " ")}`);
    }
  }
  return found;
}

test("only jobs/repository.ts reads or writes job documents", () => {
  const found = jobAccessOutsideRepository();
  assert.deepEqual(found, [], `job documents accessed outside ${REPOSITORY}; add a named function there instead:\n${found.join("\n")}`);
});

test("the check recognises the ways a job document can be reached", () => {
  const samples = [
    "getFirestore().doc(`jobs/${jobId}`)",
    "db.doc(firestorePaths.job(id))",
    "db\n  .collection(firestorePaths.jobs)\n  .where()",
    'db.collection("jobs")',
    "db.collectionGroup('jobs')",
  ];
  for (const sample of samples) assert.ok([...sample.matchAll(JOB_ACCESS)].length === 1, sample);
  for (const sample of ['db.doc("jobsArchive/x")', "db.collection(location.collection)", "firestorePaths.jobs ?? 0"]) {
    assert.equal([...sample.matchAll(JOB_ACCESS)].length, 0, sample);
  }
});
