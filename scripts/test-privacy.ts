/**
 * `npm run test:privacy`: runs exactly the tests PRIVACY.md names as the proof of each privacy
 * promise (after the build, like `npm test`), on the project's Node 22.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { privacyTestFiles, readPrivacyMap, REPO_ROOT } from "./privacyMap";

const rows = readPrivacyMap();
const files = privacyTestFiles(rows);
console.log(`PRIVACY.md: ${rows.length} promises, proven by ${files.length} test files`);
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], {
  cwd: path.join(REPO_ROOT, "functions"),
  stdio: "inherit",
});
process.exit(result.status ?? 1);
