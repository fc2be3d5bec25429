/**
 * Cold start (ARCHITECTURE §10): the time for a fresh Node process to load the whole functions
 * index, against a module exporting one bare onCall, measured alternately in the same run.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

const FUNCTIONS_DIR = path.resolve(__dirname, "../functions");

const MODULES = {
  baseline: `require("firebase-functions/v2/https").onCall(() => 1)`,
  index: `require("./lib/index.js")`,
};

function loadMs(code: string): number {
  const script = `const t = process.hrtime.bigint(); exports.f = ${code}; console.log(Number(process.hrtime.bigint() - t) / 1e6);`;
  const out = execFileSync(process.execPath, ["-e", script], { cwd: FUNCTIONS_DIR, encoding: "utf8", env: { ...process.env, FUNCTIONS_EMULATOR: "" } });
  return Number(out.trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function measureColdStart(runs = 15) {
  const samples = { baseline: [] as number[], index: [] as number[] };
  loadMs(MODULES.baseline); // warm the OS file cache for both before measuring
  loadMs(MODULES.index);
  for (let i = 0; i < runs; i++) {
    samples.baseline.push(loadMs(MODULES.baseline));
    samples.index.push(loadMs(MODULES.index));
  }
  const baselineMs = median(samples.baseline);
  const indexMs = median(samples.index);
  return { name: "cold start (load functions index / one bare onCall)", baselineMs, indexMs, ratio: indexMs / baselineMs, budget: 1.25 };
}
