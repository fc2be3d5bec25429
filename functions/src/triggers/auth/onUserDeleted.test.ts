/**
 * What deploys: onUserDeleted is a 1st-gen Auth user.delete trigger with retries and exactly the
 * secrets deletion needs; every callable can pseudonymise a uid for a request record (GPC).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PROVIDER_DELETION_SECRETS } from "../../providers/retention.js";

type Endpoint = {
  platform: string;
  eventTrigger?: { eventType: string; retry: boolean };
  callableTrigger?: object;
  secretEnvironmentVariables?: { key: string }[];
  timeoutSeconds?: number;
};
const endpointOf = (fn: unknown) => (fn as { __endpoint: Endpoint }).__endpoint;
const secretsOf = (fn: unknown) => (endpointOf(fn).secretEnvironmentVariables ?? []).map((s) => s.key).sort();

test("onUserDeleted: Auth user.delete (1st gen), retried, with the deletion keys and the salt only", async () => {
  process.env.GCLOUD_PROJECT ??= "demo-photo-fixer";
  const { onUserDeleted } = await import("./onUserDeleted.js");
  const endpoint = endpointOf(onUserDeleted);
  assert.equal(endpoint.platform, "gcfv1");
  assert.equal(endpoint.eventTrigger?.eventType, "providers/firebase.auth/eventTypes/user.delete");
  assert.equal(endpoint.eventTrigger?.retry, true, "a failed deletion is retried (it is idempotent)");
  assert.equal(endpoint.timeoutSeconds, 540);
  assert.deepEqual(secretsOf(onUserDeleted), [...PROVIDER_DELETION_SECRETS.map((s) => s.name), "PRIVACY_RECORD_SALT"].sort());
});

test("the privacy callables are callables; every callable and uploadImage has the salt; deleteMyData the deletion keys", async () => {
  const index = await import("../../index.js");
  for (const name of ["exportMyData", "deleteMyData", "setPrivacyChoices"] as const)
    assert.ok(endpointOf(index[name]).callableTrigger, `${name} is a callable`);
  for (const name of ["createJob", "getJobResult", "ackJobResult", "cancelJob", "exportMyData", "deleteMyData", "setPrivacyChoices", "uploadImage"] as const) {
    assert.ok(secretsOf(index[name]).includes("PRIVACY_RECORD_SALT"), `${name} binds the salt`);
  }
  assert.deepEqual(secretsOf(index.deleteMyData), [...PROVIDER_DELETION_SECRETS.map((s) => s.name), "PRIVACY_RECORD_SALT"].sort());
  assert.deepEqual(secretsOf(index.exportMyData), ["PRIVACY_RECORD_SALT"], "export calls no provider");
});
