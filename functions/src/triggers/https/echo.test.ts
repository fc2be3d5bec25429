/**
 * The load harness's `echo` callable is never deployed: index.ts exports it only under the
 * Functions emulator with LOCAL_STACK_ECHO=1 (set by local/stack.ts). `firebase deploy` discovers
 * functions by loading the index without either, so a deploy cannot contain it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";

const FUNCTIONS_DIR = path.resolve(__dirname, "../../..");

/** The index's export names, loaded in a fresh process with exactly this environment. */
function exportsWith(env: Record<string, string>): string[] {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "FUNCTIONS_EMULATOR" && k !== "LOCAL_STACK_ECHO")) as Record<string, string>;
  const out = execFileSync(process.execPath, ["--import", "tsx", "-e", "console.log(JSON.stringify(Object.keys(require('./src/index.ts')).sort()))"], {
    cwd: FUNCTIONS_DIR,
    env: { ...base, ...env },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as string[];
}

test("index.ts exports echo only on the local stack (emulator + LOCAL_STACK_ECHO=1), never in a deploy", () => {
  const deployed = exportsWith({});
  assert.ok(deployed.includes("createJob"), "the index loaded");
  assert.ok(!deployed.includes("echo"), "a deploy (no emulator, no flag) has no echo");
  assert.ok(!exportsWith({ LOCAL_STACK_ECHO: "1" }).includes("echo"), "the flag alone, outside the emulator, exports nothing");
  assert.ok(!exportsWith({ FUNCTIONS_EMULATOR: "true" }).includes("echo"), "the emulator alone (a plain `firebase emulators:start`) has no echo");
  const local = exportsWith({ FUNCTIONS_EMULATOR: "true", LOCAL_STACK_ECHO: "1" });
  assert.deepEqual(local.filter((n) => !deployed.includes(n)), ["echo"], "the local stack adds echo and nothing else");
});
