import assert from "node:assert/strict";
import { test } from "node:test";
import { providerBaseUrl } from "./baseUrl.js";

test("<PROVIDER>_BASE_URL overrides the default, for https and loopback test servers only", () => {
  const def = "https://api.example.com/v1";
  assert.equal(providerBaseUrl("bfl", def, {}), def);
  assert.equal(providerBaseUrl("bfl", def, { BFL_BASE_URL: "https://api.eu.bfl.ai/" }), "https://api.eu.bfl.ai");
  assert.equal(providerBaseUrl("cutout-pro", def, { CUTOUT_PRO_BASE_URL: "http://127.0.0.1:4010" }), "http://127.0.0.1:4010");
  assert.throws(() => providerBaseUrl("bfl", def, { BFL_BASE_URL: "http://proxy.example.com" }), /must be an https URL/);
});
