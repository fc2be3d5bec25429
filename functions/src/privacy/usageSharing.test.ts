/**
 * "The backend sends no usage data to third parties": the gate says no for anyone who opted out,
 * sent GPC or made no choice, and says no to everyone while no recipient exists; and nothing
 * outside the provider adapters can make an outbound call, nor is any analytics SDK a dependency.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { mayShareUsageData, USAGE_DATA_RECIPIENTS } from "./usageSharing.js";

const SRC = path.resolve(__dirname, "..");
const none = { optOutOfSale: false, optOutOfSharing: false, gpc: false };

describe("mayShareUsageData", () => {
  test("never for a user who opted out of sale or sharing, sent GPC, or made no choice", () => {
    const someone = ["an-analytics-vendor"];
    assert.equal(mayShareUsageData(none, someone), true, "the gate is not a constant: with a recipient and no opt-out it opens");
    assert.equal(mayShareUsageData({ ...none, optOutOfSale: true }, someone), false);
    assert.equal(mayShareUsageData({ ...none, optOutOfSharing: true }, someone), false);
    assert.equal(mayShareUsageData({ ...none, gpc: true }, someone), false);
    assert.equal(mayShareUsageData(undefined, someone), false, "no stored choice: not shared");
  });

  test("today there is no recipient, so nothing is shared for anyone", () => {
    assert.deepEqual(USAGE_DATA_RECIPIENTS, []);
    assert.equal(mayShareUsageData(none), false);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

const withoutComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");

/** A network call or a network module: what sending anything to a third party would need. */
const OUTBOUND = [
  /\bfetch\s*\(/,
  /(=|\?\?|\|\|)\s*fetch\b/,
  /^import\s+(?!type\b)[^;]*from\s+"node:(http|https|http2|net|tls|dgram)"/m,
  /from\s+"(undici|axios|got|node-fetch|request)"/,
];

describe("no usage data leaves the backend", () => {
  test("only the provider adapters (providers/) can call out; the scan recognises a call", () => {
    assert.ok(
      OUTBOUND.some((re) => re.test('const r = await fetch("https://example.com/collect")')),
      "the scan finds a fetch",
    );
    const offenders = sourceFiles(SRC)
      .filter((file) => !path.relative(SRC, file).startsWith(`providers${path.sep}`))
      .filter((file) => OUTBOUND.some((re) => re.test(withoutComments(readFileSync(file, "utf8")))))
      .map((file) => path.relative(SRC, file));
    assert.deepEqual(offenders, [], "code outside providers/ that can send data out must go through mayShareUsageData (and be listed here)");
  });

  test("no analytics, advertising or telemetry SDK is a dependency", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(SRC, "../package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const vendors =
      /analytics|segment|mixpanel|amplitude|posthog|sentry|datadog|dd-trace|newrelic|bugsnag|appsflyer|adjust|branch|facebook|google-ads|gtag|rudder|snowplow|braze|intercom|optimizely|statsig|heap/i;
    assert.deepEqual(
      Object.keys(pkg.dependencies ?? {}).filter((d) => vendors.test(d)),
      [],
    );
  });
});
