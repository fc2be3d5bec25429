/**
 * Model lifecycle in routing (jobs/route.ts, providers/lifecycle.ts, the dates in catalog.ts): a
 * model the client names past its shutdown day is refused with `model-retired` naming the
 * replacement; a retired default gives way to the next admitted model with an admin-facing log
 * line. Every test passes its own `now`, so none depends on the day it runs.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { runtimeConfigSchema } from "../../src/config/runtimeConfigSchema.js";
import { AppError } from "../../src/errors.js";
import { routeImageRequest, routeVideoRequest } from "../../src/jobs/route.js";
import { PROVIDERS, PROVIDER_IDS } from "../../src/providers/catalog.js";
import { daysUntilShutdown, isModelRetired, modelFact, standInFor } from "../../src/providers/lifecycle.js";
import { overrideProvider } from "../support/dependencies.js";
import type { ImageProvider } from "../../src/providers/types.js";
import { captureLogs, capturedLogs, clearCapturedLogs } from "../support/logCapture.js";

const SHUTDOWN_DAY = new Date("2026-12-01T00:00:00Z");
const EVE = new Date("2026-11-30T23:59:59Z");
const config = (over: Record<string, unknown> = {}) => runtimeConfigSchema.parse({ enabledProviders: ["local", "openai", "veo"], ...over });
const refusal = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, "refused with an AppError");
  return error;
};
const retiredLogLines = () =>
  capturedLogs()
    .split("\n")
    .filter((line) => line.includes("default model shut down by its provider"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const saved = { key: process.env.OPENAI_API_KEY, veo: process.env.VEO_BASE_URL, project: process.env.GOOGLE_CLOUD_PROJECT };
before(() => {
  captureLogs();
  process.env.OPENAI_API_KEY = `sk-lifecycle-test-${process.pid}`; // generated; nothing is sent anywhere
  process.env.VEO_BASE_URL = "http://127.0.0.1:9"; // marks Veo configured; routing makes no call
  process.env.GOOGLE_CLOUD_PROJECT ??= "demo-photo-fixer";
});
after(() => {
  for (const [name, value] of [
    ["OPENAI_API_KEY", saved.key],
    ["VEO_BASE_URL", saved.veo],
    ["GOOGLE_CLOUD_PROJECT", saved.project],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  overrideProvider("image:openai", undefined);
});
beforeEach(() => clearCapturedLogs());

describe("model lifecycle", () => {
  test("a client naming a shut-down model is refused with model-retired and told what to use instead", async () => {
    const error = await refusal(routeImageRequest("edit", { provider: "openai", model: "gpt-image-1.5" }, config(), SHUTDOWN_DAY));
    assert.equal(error.code, "invalid-argument");
    assert.equal(error.reason, "model-retired");
    assert.match(error.message, /^model: gpt-image-1\.5 was shut down by OpenAI GPT Image on 2026-12-01; use gpt-image-2\.6-sunburst$/);

    const veo = await refusal(routeVideoRequest({ provider: "veo", model: "veo-2.0-generate-001" }, config(), new Date("2026-07-01T00:00:00Z")));
    assert.equal(veo.reason, "model-retired");
    assert.match(veo.message, /use veo-3\.1-generate-001/);
  });

  test("the list of available models in model-unknown leaves retired ones out", async () => {
    const error = await refusal(routeImageRequest("edit", { provider: "openai", model: "dall-e-3" }, config(), SHUTDOWN_DAY));
    assert.equal(error.reason, "model-unknown");
    assert.match(error.message, /gpt-image-2\.6-sunburst/);
    assert.doesNotMatch(error.message, /gpt-image-1\.5/);
  });

  test("a retired default in config/runtime gives way to its replacement (or the next admitted model), and admins see it in the log", async () => {
    const defaults = { edit: { provider: "openai", model: "gpt-image-1.5" } };
    const route = await routeImageRequest("edit", {}, config({ defaults }), SHUTDOWN_DAY);
    assert.equal(route.model, "gpt-image-2.6-sunburst");
    const [line] = retiredLogLines();
    assert.ok(line, "one admin-facing line");
    assert.equal(line.severity, "WARNING");
    assert.deepEqual(
      [line.provider, line.feature, line.retired, line.standIn, line.origin],
      ["openai", "edit", "gpt-image-1.5", "gpt-image-2.6-sunburst", "config"],
    );

    // Admins allow only the flare models: the replacement is not admitted, the first admitted one serves.
    const narrowed = await routeImageRequest(
      "edit",
      {},
      config({ defaults, allowedModels: { openai: ["gpt-image-2.5-flare", "gpt-image-2.6-flare"] } }),
      SHUTDOWN_DAY,
    );
    assert.equal(narrowed.model, "gpt-image-2.5-flare");
  });

  test("a retired built-in default gives way too; with nothing current admitted the request is refused as model-retired", async () => {
    const base = await freshOpenAI();
    overrideProvider("image:openai", { ...base, models: { defaults: { style: "gpt-image-1.5" }, allowed: ["gpt-image-1.5", "gpt-image-2.6-flare"] } });
    try {
      const route = await routeImageRequest("style", { provider: "openai" }, config(), SHUTDOWN_DAY);
      assert.equal(route.model, "gpt-image-2.6-flare");
      assert.equal(retiredLogLines()[0]?.origin, "built-in");

      const onlyRetired = config({ allowedModels: { openai: ["gpt-image-1.5"] } });
      const error = await refusal(routeImageRequest("style", { provider: "openai" }, onlyRetired, SHUTDOWN_DAY));
      assert.equal(error.reason, "model-retired");

      // The day before, the same default still serves: only the injected date decides.
      assert.equal((await routeImageRequest("style", { provider: "openai" }, config(), EVE)).model, "gpt-image-1.5");
    } finally {
      overrideProvider("image:openai", undefined);
    }
  });

  test("lifecycle data: every adapter model is listed with a source; dates are real days; replacements are current", async () => {
    const { loadProvider, loadVideoProvider, servesImages, servesVideo } = await import("../../src/providers/registry.js");
    for (const id of PROVIDER_IDS) {
      const facts = PROVIDERS[id].models;
      for (const fact of facts) {
        assert.ok(fact.source.length > 10, `${id}/${fact.id} names its source`);
        for (const day of [fact.deprecatedOn, fact.shutdownOn]) if (day) assert.match(day, /^\d{4}-\d{2}-\d{2}$/);
        if (fact.replacement) {
          const replacement = modelFact(id, fact.replacement);
          assert.ok(replacement && !replacement.shutdownOn, `${id}/${fact.id}: its replacement ${fact.replacement} is a current model`);
        }
      }
      const served = [
        ...(servesImages(id) ? (await loadProvider(id)).models.allowed : []),
        ...(servesVideo(id) ? (await loadVideoProvider(id)).models.allowed : []),
      ];
      for (const model of served) assert.ok(modelFact(id, model), `${id}/${model} is in catalog.ts`);
    }
    const gpt15 = modelFact("openai", "gpt-image-1.5")!;
    assert.equal(daysUntilShutdown(gpt15, new Date("2026-10-02T12:00:00Z")), 60);
    assert.equal(isModelRetired("openai", "gpt-image-1.5", EVE), false);
    assert.equal(isModelRetired("openai", "gpt-image-1.5", SHUTDOWN_DAY), true);
    assert.equal(standInFor("openai", "gpt-image-1.5", ["gpt-image-1.5"], SHUTDOWN_DAY), undefined);
  });
});

async function freshOpenAI(): Promise<ImageProvider> {
  const { createOpenAIProvider } = await import("../../src/providers/openai/index.js");
  return createOpenAIProvider({ apiKey: "unused" });
}
