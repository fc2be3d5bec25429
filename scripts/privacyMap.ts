/**
 * PRIVACY.md is the map from each privacy promise to its code and its tests. This reads the
 * repository paths it names, so `npm run test:privacy` and the map cannot drift apart.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const PRIVACY_MAP = path.join(REPO_ROOT, "PRIVACY.md");

export interface PromiseRow {
  id: string;
  promise: string;
  code: string[];
  tests: string[];
  status: string;
}

const PATH_IN_BACKTICKS = /`((?:functions|local|scripts)\/[^`\s]+|firestore\.rules|storage\.rules|firestore\.indexes\.json|README\.md)`/g;
const pathsIn = (cell: string) => [...cell.matchAll(PATH_IN_BACKTICKS)].map((m) => m[1]!);

/** The numbered rows of PRIVACY.md's tables: | # | promise | kept by | proven by | status |. */
export function readPrivacyMap(text = readFileSync(PRIVACY_MAP, "utf8")): PromiseRow[] {
  return text
    .split("\n")
    .map((line) => line.split("|").map((cell) => cell.trim()))
    .filter((cells) => /^\d+$/.test(cells[1] ?? ""))
    .map((cells) => ({ id: cells[1]!, promise: cells[2]!, code: pathsIn(cells[3]!), tests: pathsIn(cells[4]!), status: cells[5]! }));
}

/** Every test file the map names, relative to functions/, in a stable order. */
export function privacyTestFiles(rows = readPrivacyMap()): string[] {
  const files = rows.flatMap((row) => row.tests).filter((p) => p.endsWith(".test.ts"));
  return [...new Set(files)].map((p) => path.relative("functions", p)).sort();
}
