/**
 * The load harness's `echo` callable is never deployed: index.ts exports it only under the
 * Functions emulator (FUNCTIONS_EMULATOR=true, which the emulator sets, for discovery too).
 * `firebase deploy` discovers functions by loading the index without it, so a deploy cannot
 * contain it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";

const FUNCTIONS_DIR = path.resolve(__dirname, "../../..");

/** The index's export names, loaded in a fresh process with exactly this environment. */
function exportsWith(env: Record<string, string>): string[] {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "FUNCTIONS_EMULATOR")) as Record<string, string>;
  const out = execFileSync(process.execPath, ["--import", "tsx", "-e", "console.log(JSON.stringify(Object.keys(require('./src/index.ts')).sort()))"], {
    cwd: FUNCTIONS_DIR,
    env: { ...base, ...env },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as string[];
}

test("index.ts exports echo only under the Functions emulator, never in a deploy", () => {
  const deployed = exportsWith({});
  assert.ok(deployed.includes("createJob"), "the index loaded");
  assert.ok(!deployed.includes("echo"), "a deploy (no FUNCTIONS_EMULATOR) has no echo");
  assert.ok(!exportsWith({ FUNCTIONS_EMULATOR: "false" }).includes("echo"));
  const local = exportsWith({ FUNCTIONS_EMULATOR: "true" });
  assert.deepEqual(
    local.filter((n) => !deployed.includes(n)),
    ["echo"],
    "the emulator adds echo and nothing else",
  );
});
