/**
 * `npm run fuzz`: starts the offline Firestore and Storage servers in this process, runs the
 * callable fuzzer (default 5,000 cases), then the uploadImage fuzzer (default 2,000 requests), and
 * prints the seed, counts per outcome, the duration and one summary line. Exits non-zero when any
 * case fails.
 *
 *   npm run fuzz -- [--seed N] [--cases N] [--from N] [--only i,j,...] [--json report.json]
 *                   [--uploads N] [--upload-only i,j,...]
 *
 * Without --seed the seed comes from the clock and is printed first, so any run reproduces.
 */
import { captureLogs } from "../support/logCapture.js";
import { startBackends } from "../support/backends.js";
import { runFuzz } from "./runFuzz.js";
import { runUploadFuzz } from "./runUploadFuzz.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

function intArg(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`fuzz: --${name} must be a non-negative integer`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  const seed = intArg("seed", Date.now() % 2 ** 32);
  const cases = intArg("cases", 5_000);
  const from = intArg("from", 0);
  const only = arg("only")
    ?.split(",")
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n >= 0);
  const uploads = intArg("uploads", 2_000);
  const uploadOnly = arg("upload-only")
    ?.split(",")
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n >= 0);
  console.log(
    `fuzz: seed ${seed}, ${only ? `cases ${only.join(",")}` : `${cases} cases from ${from}`}; uploads: ${uploadOnly ? `cases ${uploadOnly.join(",")}` : uploads}`,
  );

  captureLogs(); // structured logs are checked for leaks, not printed (SHOW_LOGS=1 prints them)
  const backends = await startBackends();
  let exitCode = 1;
  try {
    const report = await runFuzz({ seed, cases, from, ...(only && { only }), log: (line) => console.log(line) });
    const codes = Object.entries(report.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    console.log(`fuzz: outcomes ${codes}`);
    console.log(
      `fuzz: ${report.decodedJobs} image jobs decoded and succeeded; slowest cases: ${report.slowest.map((s) => `#${s.index} ${s.ms} ms`).join(", ")}`,
    );
    console.log(`fuzz: seed ${seed}, ${report.cases} cases in ${(report.durationMs / 1000).toFixed(1)} s`);
    if (report.failures.length) {
      // One line per kind of problem (quoted client text and ids stripped), most frequent first.
      const kinds = new Map<string, { n: number; first: number }>();
      for (const f of report.failures) {
        const kind = `${f.fn}: ${f.problem
          .replace(/"[^"]*"(\.\.\.)?/g, "…")
          .replace(/\b[a-f0-9]{40}\b/g, "<jobId>")
          .replace(/\d+/g, "N")}`;
        const k = kinds.get(kind) ?? { n: 0, first: f.index };
        k.n++;
        kinds.set(kind, k);
      }
      console.log(`fuzz: ${kinds.size} kinds of failure:`);
      for (const [kind, { n, first }] of [...kinds].sort((a, b) => b[1].n - a[1].n)) console.log(`  ${n} x ${kind.slice(0, 200)}   (first: case ${first})`);
      const json = arg("json");
      if (json) (await import("node:fs")).writeFileSync(json, JSON.stringify(report, null, 2));
      console.log(`fuzz: failures (first 20 of ${report.failures.length}):`);
      for (const f of report.failures.slice(0, 20)) console.log(`  case ${f.index} [${f.tags.join(" ")}]: ${f.problem}\n    repro: ${f.repro}`);
    }
    console.log(`fuzz: ${report.passed} passed, ${report.failed} failed`);
    exitCode = report.failed === 0 && report.failures.length === 0 ? 0 : 1;

    const up = await runUploadFuzz({ seed, cases: uploads, ...(uploadOnly && { only: uploadOnly }), log: (line) => console.log(line) });
    const statuses = Object.entries(up.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    console.log(`fuzz uploads: answers ${statuses}`);
    console.log(
      `fuzz uploads: ${up.stored} stored and checked, ${up.consumed} taken by createJob (${up.consumedSucceeded} succeeded, ${up.gpsStripped} of them with EXIF GPS that the provider got stripped); slowest: ${up.slowest.map((s) => `#${s.index} ${s.ms} ms`).join(", ")}`,
    );
    console.log(`fuzz uploads: seed ${seed}, ${up.cases} requests in ${(up.durationMs / 1000).toFixed(1)} s`);
    if (up.failures.length) {
      console.log(`fuzz uploads: failures (first 20 of ${up.failures.length}):`);
      for (const f of up.failures.slice(0, 20)) console.log(`  case ${f.index} [${f.tags.join(" ")}]: ${f.problem}\n    repro: ${f.repro}`);
    }
    console.log(`fuzz uploads: ${up.passed} passed, ${up.failed} failed`);
    if (up.failed > 0) exitCode = 1;
  } catch (error) {
    console.error(`fuzz: the run itself failed (seed ${seed}):`, error);
  } finally {
    const { getApps, deleteApp } = await import("firebase-admin/app");
    await Promise.all(getApps().map((app) => deleteApp(app)));
    await backends.firestore.stop();
    await backends.storage.stop();
  }
  return exitCode;
}

// May float: a rejection is left unhandled on purpose, so Node prints it and exits non-zero.
void main().then((code) => process.exit(code));
