/**
 * `npm run docs:providers`: writes the provider tables of docs/PROVIDERS.md and docs/VIDEO-JOBS.md and docs/PROVIDER-LIMITS.md's
 * defaults table from the provider descriptors (scripts/provider-docs.ts). `--check` writes nothing
 * and exits 1 if either file is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderProviderDocs, REPO_ROOT } from "./provider-docs";

async function main(): Promise<number> {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const { file, text } of await renderProviderDocs()) {
    const name = path.relative(REPO_ROOT, file);
    if (readFileSync(file, "utf8") === text) console.log(`${name}: up to date`);
    else if (check) {
      stale++;
      console.log(`${name}: stale (run npm run docs:providers)`);
    } else {
      writeFileSync(file, text);
      console.log(`${name}: written`);
    }
  }
  return stale ? 1 : 0;
}

void main().then((code) => process.exit(code));
