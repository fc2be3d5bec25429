/**
 * Provider facts in one place, the descriptors: `npm run providers:check` (scripts/providers-check.ts)
 * reports from their lifecycle data and the adapters' own lists; the provider tables in docs/ and
 * docs/PROVIDER-LIMITS.md's defaults are what `npm run docs:providers` generates from the same
 * data, and name each provider's current default and every model it accepts. Dates are injected:
 * nothing here changes with the calendar.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { renderProviderDocs, withSection } from "../../../scripts/provider-docs.js";
import { builtInModels, lifecycleReport, providersCheckCommand, type BuiltInModels } from "../../../scripts/providers-check.js";
import { runtimeConfigSchema } from "../../src/config/runtimeConfigSchema.js";
import { PROVIDER_IDS, PROVIDERS } from "../../src/providers/catalog.js";
import { isModelRetired } from "../../src/providers/lifecycle.js";
import { REPO_ROOT } from "./configKnobs.js";

const DOC_OF_SECTION: Record<string, string> = { "AI providers": "docs/PROVIDERS.md", "Video jobs": "docs/VIDEO-JOBS.md" };
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const config = (over: Record<string, unknown>) => runtimeConfigSchema.parse({ enabledProviders: ["openai"], ...over });
const openaiWith = (defaults: Record<string, string>, allowed: string[]): BuiltInModels => ({ openai: { image: { defaults, allowed } } });

describe("providers:check", () => {
  test("lists models within the window and past it; nothing in use retired means exit 0", () => {
    const report = lifecycleReport(openaiWith({ edit: "gpt-image-2.5-sunburst" }, ["gpt-image-2.5-sunburst", "gpt-image-1.5"]), day("2026-10-05"), 60);
    const text = report.lines.join("\n");
    assert.match(text, /SOON {3} {2}openai\/gpt-image-1\.5: shuts down on 2026-12-01 \(in 57 days\); replacement gpt-image-2\.6-sunburst/);
    assert.match(text, /RETIRED {2}veo\/veo-2\.0-generate-001: shut down on 2026-06-30/);
    assert.equal(report.problems, 0, "before its day, an accepted gpt-image-1.5 is only a warning");
    assert.doesNotMatch(lifecycleReport({}, day("2026-09-01"), 60).lines.join("\n"), /gpt-image-1\.5/, "more than 60 days out: not listed");
  });

  test("a retired built-in default, a retired accepted model, a retired configured default or allowed model are problems", () => {
    const after = day("2026-12-01");
    assert.equal(lifecycleReport(openaiWith({ edit: "gpt-image-1.5" }, ["gpt-image-2.6-sunburst"]), after, 60).problems, 1);
    assert.equal(lifecycleReport(openaiWith({ edit: "gpt-image-2.6-sunburst" }, ["gpt-image-2.6-sunburst", "gpt-image-1.5"]), after, 60).problems, 1);
    const current = openaiWith({ edit: "gpt-image-2.6-sunburst" }, ["gpt-image-2.6-sunburst"]);
    const configured = lifecycleReport(
      current,
      after,
      60,
      config({ defaults: { style: { provider: "openai", model: "chatgpt-image-latest" } }, allowedModels: { openai: ["gpt-image-1.5"] } }),
    );
    assert.equal(configured.problems, 2);
    assert.match(configured.lines.join("\n"), /config\/runtime\.defaults\.style: openai\/chatgpt-image-latest is shut down; use gpt-image-2\.6-sunburst/);
    // A disabled provider's accepted models are not in use.
    const disabled = lifecycleReport(openaiWith({ edit: "gpt-image-2.6-sunburst" }, ["gpt-image-1.5"]), after, 60, config({ enabledProviders: ["local"] }));
    assert.equal(disabled.problems, 0);
  });

  test("the command: today's adapters pass; a config/runtime with a retired default exits 1; a bad file exits 2", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "providers-check-"));
    const retiredDefault = path.join(dir, "runtime.json");
    writeFileSync(
      retiredDefault,
      JSON.stringify({ enabledProviders: ["local", "openai"], defaults: { edit: { provider: "openai", model: "gpt-image-1.5" } } }),
    );
    const invalid = path.join(dir, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ enabledProviders: "openai" }));
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    assert.equal(await providersCheckCommand(["--now", "2026-12-06"], log), 0, lines.join("\n"));
    assert.equal(await providersCheckCommand(["--now", "2026-12-06", "--config", retiredDefault], log), 1);
    assert.equal(await providersCheckCommand(["--now", "2026-11-30", "--config", retiredDefault], log), 0, "the day before the shutdown");
    assert.equal(await providersCheckCommand(["--config", invalid], log), 2);
    assert.equal(await providersCheckCommand(["--now", "soon"], log), 2);
  });
});

describe("the provider tables in docs/ come from the same data", () => {
  test("docs/PROVIDERS.md, docs/VIDEO-JOBS.md and docs/PROVIDER-LIMITS.md are what npm run docs:providers generates now", async () => {
    for (const { file, text } of await renderProviderDocs()) {
      assert.equal(readFileSync(file, "utf8"), text, `${path.relative(REPO_ROOT, file)} is stale: run npm run docs:providers`);
    }
  });

  test("a generated section is replaced whole, and a missing marker is an error, not a silent skip", () => {
    const doc = "a\n<!-- t:begin -->\nold row\n<!-- t:end -->\nb";
    const out = withSection(doc, "t", "new row");
    assert.match(out, /<!-- t:begin -->\n<!-- generated by npm run docs:providers[^\n]*\nnew row\n<!-- t:end -->\nb$/);
    assert.doesNotMatch(out, /old row/);
    assert.equal(withSection(out, "t", "new row"), out, "idempotent");
    assert.throws(() => withSection("no markers", "t", "x"), /missing <!-- t:begin -->/);
  });

  /** The row of the provider in the image table (docs/PROVIDERS.md) or the video table (docs/VIDEO-JOBS.md). */
  const rowOf = (section: string, id: string) => {
    const body = readFileSync(path.join(REPO_ROOT, DOC_OF_SECTION[section]!), "utf8");
    return body.split("\n").find((line) => line.startsWith("|") && line.includes(`(\`${id}\`)`));
  };

  test("each provider's row names its current defaults and every model its adapter accepts; retired ones only as shut down", async () => {
    const models = await builtInModels();
    const now = day("2026-12-06"); // the docs state facts as of this lifecycle data
    const problems: string[] = [];
    for (const id of PROVIDER_IDS) {
      const { image, video } = models[id]!;
      const rows = { image: rowOf("AI providers", id), video: rowOf("Video jobs", id) };
      const check = (kind: "image" | "video", defaults: string[], allowed: readonly string[]) => {
        const row = rows[kind];
        if (!row) {
          problems.push(`${id}: no row in the docs ${kind} table`);
          return;
        }
        for (const model of allowed) if (!row.includes(`\`${model}\``)) problems.push(`${id}: the ${kind} row does not name \`${model}\``);
        // The default-model cell opens with the defaults, before any "(also …)".
        const defaultCell = row.split("|")[kind === "image" ? 3 : 2]!.split("(also")[0]!;
        for (const model of defaults) if (!defaultCell.includes(`\`${model}\``)) problems.push(`${id}: \`${model}\` is not shown as the ${kind} default`);
      };
      if (image) check("image", [...new Set(Object.values(image.defaults))], image.allowed);
      if (video) check("video", [video.default], video.allowed);
      for (const fact of PROVIDERS[id].models.filter((f) => isModelRetired(id, f.id, now))) {
        for (const row of Object.values(rows)) {
          if (row?.includes(`\`${fact.id}\``) && !/[Ss]hut down/.test(row)) problems.push(`${id}: \`${fact.id}\` appears in the docs without "shut down"`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
