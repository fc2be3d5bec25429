/**
 * `npm run docs:api`: writes docs/CLIENT-API.md and docs/client-api.schema.json from the client
 * contract (functions/src/contract/) and the snippets in scripts/client-api/snippets/.
 * `--check` writes nothing and exits 1 if either file is stale (the test does the same).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DOC_PATH, REPO_ROOT, renderClientApiDoc, renderClientApiSchema, SCHEMA_PATH } from "./client-api/render";

const check = process.argv.includes("--check");
const outputs = [
  { file: DOC_PATH, text: renderClientApiDoc() },
  { file: SCHEMA_PATH, text: renderClientApiSchema() },
];
let stale = 0;
for (const { file, text } of outputs) {
  const current = (() => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  })();
  const name = path.relative(REPO_ROOT, file);
  if (current === text) {
    console.log(`${name}: up to date`);
  } else if (check) {
    stale++;
    console.log(`${name}: stale (run npm run docs:api)`);
  } else {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`${name}: written`);
  }
}
process.exit(stale ? 1 : 0);
