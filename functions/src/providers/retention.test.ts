/**
 * The provider retention table: one entry per provider face data may go to, each citing our notes
 * on that provider's documentation, and its deletion claims match what the adapters can do.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { PROVIDER_IDS, PROVIDERS } from "./catalog.js";
import { loadVideoProvider, servesVideo } from "./registry.js";
import { PROVIDER_DATA_PRACTICES, PROVIDER_DELETION_SECRETS, PROVIDER_DOCS_DIR } from "./retention.js";

const DOCS = path.resolve(__dirname, "../../..", PROVIDER_DOCS_DIR);
const docsPresent = existsSync(DOCS);

describe("provider data practices", () => {
  test("exactly one entry per provider of the catalog, each with a stated retention", () => {
    assert.deepEqual(Object.keys(PROVIDER_DATA_PRACTICES).sort(), [...PROVIDER_IDS].sort());
    for (const id of PROVIDER_IDS) {
      const p = PROVIDER_DATA_PRACTICES[id];
      assert.ok(p.retention.length > 20, `${id}: retention stated`);
      assert.ok(id === "local" || p.source.length > 0, `${id}: cites its source`);
    }
  });

  test(
    "each cited file exists in shared/providers and has a data retention section",
    { skip: docsPresent ? false : `${DOCS} is not present in this checkout` },
    () => {
      for (const id of PROVIDER_IDS) {
        for (const file of PROVIDER_DATA_PRACTICES[id].source) {
          const text = readFileSync(path.join(DOCS, file), "utf8");
          assert.match(text, /^## 6\. Data retention/m, `${file} (${id}) has a retention section`);
        }
      }
    },
  );

  test("deletion claims match the video adapters: cancel and delete where said, nothing where not", async () => {
    // Adapters are only built here, never called: placeholder credentials and a project suffice.
    const placeholders = {
      GOOGLE_CLOUD_PROJECT: "demo-photo-fixer",
      ...Object.fromEntries(PROVIDER_IDS.flatMap((id) => PROVIDERS[id].secrets.map((s) => [s.name, "placeholder"]))),
    };
    const saved = Object.fromEntries(Object.keys(placeholders).map((k) => [k, process.env[k]]));
    Object.assign(process.env, placeholders);
    try {
      await checkDeletionClaims();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  async function checkDeletionClaims() {
    for (const id of PROVIDER_IDS) {
      const claim = PROVIDER_DATA_PRACTICES[id].deletionByApi;
      if (!servesVideo(id) || id === "local") {
        assert.equal(claim, "not-applicable", `${id}: keeps no task of ours to delete (image calls end within the request; local runs on our servers)`);
        continue;
      }
      const adapter = await loadVideoProvider(id);
      const expected = { "cancel-and-delete": [true, true], "cancel-pending": [true, false], none: [false, false], "not-applicable": [false, false] }[claim];
      assert.deepEqual([Boolean(adapter.cancel), Boolean(adapter.deleteTask)], expected, `${id}: claims ${claim}`);
    }
  }

  test("deletion binds only the keys of providers it can ask to delete", () => {
    const deletable = PROVIDER_IDS.filter((id) => ["cancel-and-delete", "cancel-pending"].includes(PROVIDER_DATA_PRACTICES[id].deletionByApi));
    assert.deepEqual(deletable.sort(), ["runway", "seedance", "wan"]);
    assert.deepEqual(
      PROVIDER_DELETION_SECRETS.map((s) => s.name).sort(),
      [...new Set(deletable.flatMap((id) => PROVIDERS[id].secrets.map((s) => s.name)))].sort(),
    );
    assert.ok(!PROVIDER_DELETION_SECRETS.some((s) => s.name === "OPENAI_API_KEY"), "no key of a provider deletion never calls");
  });
});
