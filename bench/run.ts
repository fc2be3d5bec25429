/** `npm run bench`: every budget of ARCHITECTURE §10 measured as a ratio within one run. */
import { measureColdStart } from "./coldStart.js";

const results = [measureColdStart()];
let failed = false;
for (const r of results) {
  const ok = r.ratio <= r.budget;
  failed ||= !ok;
  console.log(`${ok ? "PASS" : "FAIL"}  ${r.name}: ${r.indexMs.toFixed(1)} ms vs ${r.baselineMs.toFixed(1)} ms = ${r.ratio.toFixed(2)}x (budget ${r.budget}x)`);
}
process.exitCode = failed ? 1 : 0;
