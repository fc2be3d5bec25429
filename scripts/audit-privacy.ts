/**
 * Scans a running stack or a real project for anything that breaks the privacy promises and
 * prints counts (functions/src/privacy/audit.ts): job documents beyond the status fields,
 * long/base64/URL/bytes values, documents past retention, transient objects past their deadline,
 * objects outside the allowed prefixes or without their metadata, users with data but no Auth
 * account, collections nobody declared. Read-only.
 *
 *   npm run audit:privacy                  the stack whose environment is exported (the `export`
 *                                          lines `npm start` prints: Firestore, Storage and Auth emulators)
 *   npm run audit:privacy -- --project <id> [--bucket <name>]
 *                                          a real project, with Application Default Credentials
 *   options: --grace-minutes N (15)  lateness of the purge tolerated; --max-string N (300);
 *            --examples N (5) offenders named per kind; --json  the report as JSON
 *
 * Exit codes: 0 no violation (or skipped: nothing to audit), 1 violations, 2 the audit could not run.
 */
import { argOf, checkCredentials, firebasercProject, firstLine, loadFunctionsEnv, requireFromFunctions } from "./operator";

const EMULATOR_VARS = ["FIRESTORE_EMULATOR_HOST", "FIREBASE_STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"] as const;

export interface AuditIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export async function auditCommand({ argv, env, log }: AuditIo): Promise<number> {
  const arg = (name: string) => argOf(argv, name);
  const number = (name: string, fallback: number) => {
    const raw = arg(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0`);
    return value;
  };
  const grace = number("grace-minutes", 15);
  const maxString = number("max-string", 300);
  const examples = number("examples", 5);

  // All three emulators, or none: a half-set environment would read some of it from production.
  const set = EMULATOR_VARS.filter((name) => env[name]);
  if (set.length && set.length < EMULATOR_VARS.length) {
    const missing = EMULATOR_VARS.filter((name) => !env[name]);
    log(`audit:privacy: ERROR: ${set.join(", ")} set but not ${missing.join(", ")}: export every variable \`npm start\` printed, or none for a real project.`);
    return 2;
  }
  const emulators = set.length === EMULATOR_VARS.length;
  const firebaseConfig = JSON.parse(env.FIREBASE_CONFIG ?? "{}") as { projectId?: string; storageBucket?: string };
  const projectId = arg("project") ?? env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT ?? firebaseConfig.projectId ?? firebasercProject();
  if (!projectId) {
    log("audit:privacy: ERROR: no project: pass --project <id>.");
    return 2;
  }
  if (!emulators) {
    if (projectId.startsWith("demo-")) {
      log(
        `audit:privacy: SKIPPED: no running stack and no real project ("${projectId}" is a demo project): run \`npm start\` and export the variables it prints, or pass --project <id>.`,
      );
      return 0;
    }
    const credentials = await checkCredentials(env);
    if (!credentials.ok) {
      log(`audit:privacy: ${credentials.skip ? "SKIPPED" : "ERROR"}: ${credentials.why}`);
      return credentials.skip ? 0 : 2;
    }
  }

  const envFiles = loadFunctionsEnv(env, projectId, emulators);
  // Read by firebase-admin's initializeApp() in functions/src/admin.ts.
  env.GCLOUD_PROJECT = projectId;
  const explicitBucket = arg("bucket") ?? env.STORAGE_BUCKET ?? firebaseConfig.storageBucket;
  env.FIREBASE_CONFIG = JSON.stringify({ projectId, ...(explicitBucket && { storageBucket: explicitBucket }) });
  const { auditPrivacy, VIOLATIONS } = await import("../functions/src/privacy/audit.js");
  const { getStorage } = requireFromFunctions("firebase-admin/storage") as typeof import("firebase-admin/storage");

  // The local stack's bucket is <project>.appspot.com (local/stack.ts); a real project may have either default name.
  const bucketName = explicitBucket ?? (emulators ? `${projectId}.appspot.com` : await defaultBucket(projectId, getStorage));
  if (!bucketName) {
    log(`audit:privacy: ERROR: neither ${projectId}.firebasestorage.app nor ${projectId}.appspot.com exists: pass --bucket <name>.`);
    return 2;
  }
  log(
    `audit:privacy: project ${projectId} (${emulators ? `emulators: ${EMULATOR_VARS.map((v) => env[v]).join(", ")}` : "real project"}), bucket ${bucketName}`,
  );
  if (envFiles.length) log(`  params from ${envFiles.join(", ")}`);

  const started = Date.now();
  const report = await auditPrivacy({ bucket: getStorage().bucket(bucketName), graceMs: grace * 60_000, maxStringChars: maxString, maxExamples: examples });
  if (argv.includes("--json")) {
    log(JSON.stringify(report, null, 2));
  } else {
    const s = report.scanned;
    log(
      `  scanned ${s.collections} collections, ${s.documents} documents, ${s.objects} objects, ${s.users} users in ${((Date.now() - started) / 1000).toFixed(1)} s (grace ${grace} min)`,
    );
    for (const [kind, description] of Object.entries(VIOLATIONS) as [keyof typeof VIOLATIONS, string][]) {
      log(`  ${String(report.counts[kind]).padStart(6)}  ${description}`);
      for (const example of report.examples[kind]) log(`          e.g. ${example}`);
    }
  }
  const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
  log(total ? `audit:privacy: FAILED: ${total} violation(s)` : "audit:privacy: PASSED: no violation");
  return total ? 1 : 0;
}

/** Projects created since October 2024 get <project>.firebasestorage.app, older ones <project>.appspot.com. */
async function defaultBucket(projectId: string, getStorage: typeof import("firebase-admin/storage").getStorage): Promise<string | undefined> {
  for (const name of [`${projectId}.firebasestorage.app`, `${projectId}.appspot.com`]) {
    if ((await getStorage().bucket(name).exists())[0]) return name;
  }
  return undefined;
}

if (require.main === module) {
  auditCommand({ argv: process.argv.slice(2), env: process.env, log: (line) => console.log(line) }).then(
    (code) => process.exit(code),
    (error) => {
      console.error("audit:privacy: ERROR:", firstLine(error));
      process.exit(2);
    },
  );
}
