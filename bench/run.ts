/** `npm run bench`: the performance budgets (ARCHITECTURE §10 and the issues), each measured in one run. */
import { measureColdStart } from "./coldStart.js";
import { measureHeicConversion } from "./heicConvert.js";
import { measureImageMemory } from "./imageMemory.js";
import { measurePurgeSpeed } from "./purgeSpeed.js";
import { measureStreamMemory } from "./streamMemory.js";
import { measureUploadMemory } from "./uploadMemory.js";
import { measureVideoPolls } from "./videoPolls.js";

interface BenchResult {
  name: string;
  detail: string;
  ratio: number;
  ok: boolean;
  budget: string;
}

async function main() {
  const cold = measureColdStart();
  const results: BenchResult[] = [
    {
      name: cold.name,
      detail: `${cold.indexMs.toFixed(1)} ms vs ${cold.baselineMs.toFixed(1)} ms`,
      ratio: cold.ratio,
      ok: cold.ratio <= cold.budget,
      budget: `ratio ≤ ${cold.budget}`,
    },
    measureVideoPolls(),
    await measureStreamMemory(),
    await measureUploadMemory(),
    measureHeicConversion(),
    ...(await measureImageMemory()),
    await measurePurgeSpeed(),
  ];
  for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"}  ${r.name}: ${r.detail}; ratio ${r.ratio.toFixed(3)} (budget: ${r.budget})`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

void main();
