/**
 * Checks the real Cloud Storage bucket that holds `transient/` (ARCHITECTURE §5.6): soft delete
 * off, a lifecycle rule on `transient/`, uniform bucket-level access, public access prevention,
 * and nothing that keeps deleted objects (versioning, retention policy, default hold).
 *
 *   npm run verify:bucket                          the project's default bucket (.firebaserc or
 *                                                  GOOGLE_CLOUD_PROJECT), with Application Default Credentials
 *   npm run verify:bucket -- --bucket <name>       a named bucket (or STORAGE_BUCKET)
 *   npm run verify:bucket -- --project <id>        that project's default bucket
 *   npm run verify:bucket -- --metadata <file>     a saved JSON API bucket resource (`GET storage/v1/b/<name>`)
 *
 * Prints PASS/FAIL per check and exits 1 on any failure. Without credentials, under the Storage
 * emulator (which keeps no bucket settings) or with only the demo project, it says why it skipped
 * and exits 0. Read-only: it only reads the bucket resource.
 */
import { readFileSync } from "node:fs";
import { checkBucket, TRANSIENT_LIFECYCLE, type BucketMetadata } from "../functions/src/privacy/bucketPolicy";
import { argOf, checkCredentials, firebasercProject, firstLine, requireFromFunctions } from "./operator";

export interface VerifyBucketIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** Returns the exit code: 0 all checks passed or skipped, 1 a check failed or the bucket could not be read. */
export async function verifyBucket({ argv, env, log }: VerifyBucketIo): Promise<number> {
  const arg = (name: string) => argOf(argv, name);
  const skip = (why: string) => {
    log(`verify:bucket: SKIPPED: ${why}`);
    return 0;
  };

  const metadataFile = arg("metadata");
  if (metadataFile) return report(JSON.parse(readFileSync(metadataFile, "utf8")) as BucketMetadata, log);

  const emulator = env.FIREBASE_STORAGE_EMULATOR_HOST || env.STORAGE_EMULATOR_HOST;
  if (emulator) {
    return skip(
      `the Storage emulator is configured (${env.FIREBASE_STORAGE_EMULATOR_HOST ? "FIREBASE_STORAGE_EMULATOR_HOST" : "STORAGE_EMULATOR_HOST"}); ` +
        "it keeps no bucket settings (it answers 404 for the bucket resource). Unset it to check the real bucket.",
    );
  }

  const projectId = arg("project") ?? env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT ?? firebasercProject();
  const explicitBucket = arg("bucket") ?? env.STORAGE_BUCKET;
  if (!explicitBucket && (!projectId || projectId.startsWith("demo-"))) {
    return skip(
      `no real project (${projectId ? `"${projectId}" is a demo project` : "none found"}): ` +
        "pass --bucket <name> or --project <id>, or run `npx firebase use <project>`.",
    );
  }
  // Projects created since October 2024 get <project>.firebasestorage.app, older ones <project>.appspot.com.
  const candidates = explicitBucket ? [explicitBucket] : [`${projectId}.firebasestorage.app`, `${projectId}.appspot.com`];

  const credentials = await checkCredentials(env);
  if (!credentials.ok) {
    if (credentials.skip) return skip(credentials.why);
    log(`verify:bucket: FAILED: ${credentials.why}`);
    return 1;
  }

  const { applicationDefault, initializeApp, deleteApp } = requireFromFunctions("firebase-admin/app") as typeof import("firebase-admin/app");
  const { getStorage } = requireFromFunctions("firebase-admin/storage") as typeof import("firebase-admin/storage");
  const app = initializeApp({ credential: applicationDefault(), ...(projectId && { projectId }) }, `verify-bucket-${Date.now()}`);
  try {
    for (const name of candidates) {
      try {
        const [metadata] = await getStorage(app).bucket(name).getMetadata();
        return report(metadata as BucketMetadata, log);
      } catch (error) {
        const status = (error as { code?: unknown }).code;
        if (status === 404 && name !== candidates[candidates.length - 1]) continue;
        log(`verify:bucket: FAILED: could not read gs://${name}: ${status === 404 ? "no such bucket (pass --bucket <name>)" : firstLine(error)}`);
        if (status === 403) log("  the credentials need storage.buckets.get on the bucket (e.g. roles/storage.admin)");
        return 1;
      }
    }
    return 1;
  } finally {
    await deleteApp(app);
  }
}

function report(bucket: BucketMetadata, log: (line: string) => void): number {
  const name = bucket.name ?? "<bucket>";
  log(`verify:bucket: gs://${name}`);
  const checks = checkBucket(bucket);
  for (const c of checks) log(`  ${c.pass ? "PASS" : "FAIL"}  ${c.name}: ${c.detail}`);
  const failed = checks.filter((c) => !c.pass);
  if (!failed.length) {
    log(`verify:bucket: all ${checks.length} checks passed`);
    return 0;
  }
  const fixes = [...new Set(failed.map((c) => c.fix).filter(Boolean))];
  log(`verify:bucket: ${failed.length} of ${checks.length} checks FAILED. To fix:`);
  if (fixes.some((f) => f?.startsWith("--lifecycle-file"))) {
    log(`  echo '${JSON.stringify(TRANSIENT_LIFECYCLE)}' > transient-lifecycle.json   # replaces the bucket's lifecycle rules: merge any you keep`);
  }
  log(`  gcloud storage buckets update gs://${name} ${fixes.join(" ")}`);
  return 1;
}

if (require.main === module) {
  verifyBucket({ argv: process.argv.slice(2), env: process.env, log: (line) => console.log(line) }).then(
    (code) => process.exit(code),
    (error) => {
      console.error("verify:bucket: FAILED", firstLine(error));
      process.exit(1);
    },
  );
}
