/**
 * `npm run verify:bucket` as an operator runs it: PASS/FAIL lines and the exit code for a saved
 * bucket resource, and a clear skip (exit 0) where there is nothing real to check. The checks
 * themselves are unit-tested in src/privacy/bucketPolicy.test.ts; reading a real bucket needs
 * credentials and is not tested here. The Storage emulator has no bucket resource (404), so it
 * cannot stand in for one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { verifyBucket } from "../../../scripts/verify-bucket.js";
import { TRANSIENT_LIFECYCLE } from "../../src/privacy/bucketPolicy.js";

const ROOT = path.resolve(__dirname, "../../..");
const scratch = mkdtempSync(path.join(tmpdir(), "verify-bucket-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const code = await verifyBucket({ argv, env, log: (line) => lines.push(line) });
  return { code, out: lines.join("\n") };
}

function metadataFile(name: string, bucket: unknown): string {
  const file = path.join(scratch, name);
  writeFileSync(file, JSON.stringify(bucket));
  return file;
}

const configured = {
  kind: "storage#bucket",
  name: "photo-fixer-prod.firebasestorage.app",
  softDeletePolicy: { retentionDurationSeconds: "0", effectiveTime: "2026-01-01T00:00:00.000Z" },
  lifecycle: TRANSIENT_LIFECYCLE,
  iamConfiguration: { uniformBucketLevelAccess: { enabled: true, lockedTime: "2026-04-01T00:00:00.000Z" }, publicAccessPrevention: "enforced" },
};

test("a configured bucket: every check PASS, exit 0", async () => {
  const { code, out } = await run(["--metadata", metadataFile("ok.json", configured)]);
  assert.equal(code, 0, out);
  assert.equal(out.match(/^ {2}PASS /gm)?.length, 6, out);
  assert.doesNotMatch(out, /FAIL/);
  assert.match(out, /gs:\/\/photo-fixer-prod\.firebasestorage\.app/);
});

test("a fresh bucket (7-day soft delete, no lifecycle, ACLs, public access inherited): FAIL lines, the fix, exit 1", async () => {
  const fresh = {
    name: "photo-fixer-prod.appspot.com",
    softDeletePolicy: { retentionDurationSeconds: "604800" },
    iamConfiguration: { uniformBucketLevelAccess: { enabled: false }, publicAccessPrevention: "inherited" },
  };
  const { code, out } = await run(["--metadata", metadataFile("fresh.json", fresh)]);
  assert.equal(code, 1, out);
  for (const name of ["soft delete disabled", "lifecycle deletes transient/", "uniform bucket-level access", "public access prevention enforced"]) {
    assert.match(out, new RegExp(`^ {2}FAIL {2}${name}`, "m"), name);
  }
  assert.match(out, /4 of 6 checks FAILED/);
  assert.match(
    out,
    /gcloud storage buckets update gs:\/\/photo-fixer-prod\.appspot\.com --clear-soft-delete --lifecycle-file=transient-lifecycle\.json --uniform-bucket-level-access --public-access-prevention/,
  );
  // The printed lifecycle file is exactly what the check accepts.
  const echoed = /echo '(.+)' > transient-lifecycle\.json/.exec(out)?.[1];
  assert.deepEqual(JSON.parse(echoed!), TRANSIENT_LIFECYCLE);
});

test("one failing setting alone fails the command", async () => {
  const { code, out } = await run(["--metadata", metadataFile("versioned.json", { ...configured, versioning: { enabled: true } })]);
  assert.equal(code, 1);
  assert.match(out, /FAIL {2}object versioning off/);
  assert.match(out, /update gs:\/\/\S+ --no-versioning$/m);
});

test("skipped with the reason, exit 0: the demo project, the Storage emulator", async () => {
  const demo = await run([], {});
  assert.equal(demo.code, 0);
  assert.match(demo.out, /SKIPPED: no real project \("demo-photo-fixer" is a demo project\)/); // from .firebaserc

  const emulator = await run(["--bucket", "real-bucket"], { FIREBASE_STORAGE_EMULATOR_HOST: "127.0.0.1:9199" });
  assert.equal(emulator.code, 0);
  assert.match(emulator.out, /SKIPPED: the Storage emulator is configured/);
});

test("the command without credentials says it skipped and why, exit 0; a broken credential file fails", () => {
  const home = mkdtempSync(path.join(scratch, "home-"));
  const cli = (extraEnv: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/verify-bucket.ts", "--project", "photo-fixer-prod"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      // A clean environment: no credentials, no gcloud config, no GCE metadata server to fall back on.
      env: { PATH: process.env.PATH, HOME: home, METADATA_SERVER_DETECTION: "none", ...extraEnv },
    });
  const none = cli({});
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /verify:bucket: SKIPPED: no Application Default Credentials/);

  const broken = cli({ GOOGLE_APPLICATION_CREDENTIALS: path.join(home, "missing-key.json") });
  assert.equal(broken.status, 1, broken.stdout);
  assert.match(broken.stdout, /FAILED: the credentials in .*missing-key\.json gave no access token/);
});
