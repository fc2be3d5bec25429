/**
 * firebase.json and .firebaserc are valid against the JSON schemas that ship with the firebase-tools
 * the project pins (root devDependency), with the validator and options that CLI uses
 * (lib/firebaseConfigValidate.js: ajv + ajv-formats, `allowUnionTypes`). The CLI only logs what it
 * finds at debug level and deploys anyway; here a typo'd or misplaced key fails the build.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";

const REPO_ROOT = path.resolve(__dirname, "../../..");
const TOOLS_PACKAGE = require.resolve("firebase-tools/package.json", { paths: [REPO_ROOT] });
const TOOLS_DIR = path.dirname(TOOLS_PACKAGE);
// ajv as firebase-tools resolves it: the validator the CLI itself runs, whatever the hoisting.
const fromTools = createRequire(TOOLS_PACKAGE);

interface AjvError {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}
type Validate = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

function validatorFor(schemaFile: string): Validate {
  const { Ajv } = fromTools("ajv") as { Ajv: new (options: object) => { compile(schema: object): Validate } };
  const addFormats = (fromTools("ajv-formats") as { default: (ajv: object) => void }).default;
  const ajv = new Ajv({ allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.join(TOOLS_DIR, "schema", schemaFile), "utf8")));
}

const readJson = (file: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, file), "utf8")) as Record<string, unknown>;
const describeErrors = (validate: Validate) => (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);

test("the schema comes from the firebase-tools the project pins", () => {
  const pinned = (readJson("package.json").devDependencies as Record<string, string>)["firebase-tools"];
  const installed = (JSON.parse(readFileSync(TOOLS_PACKAGE, "utf8")) as { version: string }).version;
  assert.equal(installed, pinned);
  assert.ok(existsSync(path.join(TOOLS_DIR, "schema/firebase-config.json")));
});

test("firebase.json is valid against firebase-tools' schema/firebase-config.json", () => {
  const validate = validatorFor("firebase-config.json");
  assert.ok(validate(readJson("firebase.json")), `firebase.json:\n${describeErrors(validate).join("\n")}`);
});

test(".firebaserc is valid against firebase-tools' schema/firebaserc.json", () => {
  const validate = validatorFor("firebaserc.json");
  assert.ok(validate(readJson(".firebaserc")), `.firebaserc:\n${describeErrors(validate).join("\n")}`);
});

test("the validator refuses what the CLI would only log: unknown keys and wrong types", () => {
  const validate = validatorFor("firebase-config.json");
  const config = readJson("firebase.json");
  const functions = (config.functions as Record<string, unknown>[]).map((f, i) => (i === 0 ? { ...f, runtme: "nodejs22" } : f));
  assert.equal(validate({ ...config, functions }), false, "a typo'd key under functions");
  const emulators = { ...(config.emulators as Record<string, unknown>), firestore: { host: "127.0.0.1", port: "8080" } };
  assert.equal(validate({ ...config, emulators }), false, "a port given as a string");
  assert.ok(describeErrors(validate).some((e) => e.startsWith("/emulators/firestore/port")));
  assert.equal(validate({ ...config, hostng: {} }), false, "an unknown top-level key");
});

test("every file firebase.json names exists", () => {
  const config = readJson("firebase.json") as {
    functions: { source: string }[];
    firestore: { rules: string; indexes: string };
    storage: { rules: string };
  };
  const named = [...config.functions.map((f) => f.source), config.firestore.rules, config.firestore.indexes, config.storage.rules];
  assert.deepEqual(
    named.filter((file) => !existsSync(path.join(REPO_ROOT, file))),
    [],
  );
});
