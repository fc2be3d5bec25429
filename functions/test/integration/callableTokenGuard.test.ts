/**
 * The callable guard's token check (triggers/https/tokenClaimsGuard.ts): tokens shaped like genuine
 * ones pass, each quoted claim that is not what this project's tokens hold is named, and a token
 * exactly as the Auth emulator issues it (`alg: "none"`, unsigned) still reaches our handler over
 * HTTP, verified by firebase-admin against a stand-in Auth emulator. The forged tokens' log
 * hygiene is proven in logHygiene.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { FakeServer } from "../support/fakeServer.js";
import { captureLogs } from "../support/logCapture.js";
import { forgedJwt, postCallable, serveCallable } from "../support/callableHttp.js";
import { quotableTokenRefusal } from "../../src/triggers/https/tokenClaimsGuard.js";

const PROJECT = "demo-photo-fixer";
const ISSUER = `https://securetoken.google.com/${PROJECT}`;
const UID = "hJ2bQy7kRLcZ0aW4tNmE9sXvUf31";
const now = Math.floor(Date.now() / 1000);
/** What a signed-in client sends outside the emulator (signature not checked here). */
const genuineIdToken = forgedJwt({ alg: "RS256", kid: "a".repeat(40), typ: "JWT" }, { aud: PROJECT, iss: ISSUER, sub: UID, iat: now, exp: now + 3600 });
/** What firebase-tools' Auth emulator issues (auth/operations.js: `sign(…, { algorithm: "none" })`). */
const emulatorIdToken = forgedJwt(
  { alg: "none", typ: "JWT" },
  {
    user_id: UID,
    auth_time: now,
    provider_id: "anonymous",
    firebase: { identities: {}, sign_in_provider: "anonymous" },
    iat: now,
    exp: now + 3600,
    aud: PROJECT,
    iss: ISSUER,
    sub: UID,
  },
  "",
);
const genuineAppCheck = forgedJwt(
  { alg: "RS256", kid: "vxcFRg", typ: "JWT" },
  {
    aud: ["projects/123456789012", `projects/${PROJECT}`],
    iss: "https://firebaseappcheck.googleapis.com/123456789012",
    sub: "1:123456789012:web:0a1b2c3d",
    iat: now,
    exp: now + 3600,
  },
);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const problemOf = (headers: Record<string, string>) => quotableTokenRefusal(headers)?.problem;

let authEmulator: FakeServer;
before(async () => {
  captureLogs();
  authEmulator = await FakeServer.start();
  Object.assign(process.env, {
    GCLOUD_PROJECT: PROJECT,
    FUNCTIONS_EMULATOR: "true",
    FIREBASE_AUTH_EMULATOR_HOST: authEmulator.host,
    METADATA_SERVER_DETECTION: "none",
  });
});
after(() => authEmulator.close());

test("tokens shaped like genuine ones pass; each quoted claim that differs is named", () => {
  assert.equal(quotableTokenRefusal({}), undefined, "no tokens: the SDK and our handler answer");
  assert.equal(quotableTokenRefusal({ ...bearer(genuineIdToken), "x-firebase-appcheck": genuineAppCheck }), undefined);
  assert.equal(quotableTokenRefusal(bearer(emulatorIdToken)), undefined, "in the emulator");
  assert.equal(quotableTokenRefusal({ authorization: `Basic ${genuineIdToken}` }), undefined, "not a bearer: the SDK refuses it without logging");

  const id = (header: object, claims: object) => forgedJwt({ alg: "RS256", kid: "k", ...header }, { aud: PROJECT, iss: ISSUER, sub: UID, ...claims });
  assert.equal(problemOf(bearer("not-a-jwt")), "not-a-jwt");
  assert.equal(problemOf(bearer(forgedJwt({ alg: "RS256", typ: "JWT" }, "plain text"))), "not-a-jwt");
  assert.equal(problemOf(bearer(id({ alg: "HS256" }, {}))), "alg");
  assert.equal(problemOf(bearer(id({}, { aud: "other-project" }))), "aud");
  assert.equal(problemOf(bearer(id({}, { aud: [PROJECT] }))), "aud");
  assert.equal(problemOf(bearer(id({}, { iss: `${ISSUER}/x` }))), "iss");
  const refusal = quotableTokenRefusal(bearer(id({}, { aud: "x" })))!.error;
  assert.deepEqual([refusal.code, refusal.reason], ["unauthenticated", "id-token-malformed"]);

  const app = (header: object, claims: object) => forgedJwt({ alg: "RS256", ...header }, { aud: [`projects/${PROJECT}`], ...claims });
  assert.equal(problemOf({ "x-firebase-appcheck": "junk" }), "not-a-jwt");
  assert.equal(problemOf({ "x-firebase-appcheck": app({ alg: "none" }, {}) }), "alg");
  assert.equal(problemOf({ "x-firebase-appcheck": app({}, { aud: `projects/${PROJECT}` }) }), "aud");
  assert.equal(problemOf({ "x-firebase-appcheck": app({}, { aud: ["projects/other-project"] }) }), "aud");
  const appRefusal = quotableTokenRefusal({ "x-firebase-appcheck": "junk" })!.error;
  assert.deepEqual([appRefusal.code, appRefusal.reason], ["permission-denied", "app-check-malformed"]);
});

test("outside the emulator an unsigned token is refused; without a project id, claims must be project-shaped", () => {
  const saved = { ...process.env };
  try {
    delete process.env.FUNCTIONS_EMULATOR;
    delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
    assert.equal(problemOf(bearer(emulatorIdToken)), "alg");
    assert.equal(problemOf(bearer(genuineIdToken)), undefined);
    delete process.env.GCLOUD_PROJECT; // no app exists yet in this process
    assert.equal(problemOf(bearer(genuineIdToken)), undefined);
    assert.equal(problemOf({ "x-firebase-appcheck": genuineAppCheck }), undefined);
    const url = "https://evil.example/?t=x";
    assert.equal(problemOf(bearer(forgedJwt({ alg: "RS256" }, { aud: url, iss: ISSUER.replace(PROJECT, url), sub: UID }))), "aud");
    assert.equal(problemOf({ "x-firebase-appcheck": forgedJwt({ alg: "RS256" }, { aud: [`projects/${PROJECT}`, url] }) }), "aud");
  } finally {
    Object.assign(process.env, saved);
  }
});

test("a token exactly as the Auth emulator issues it reaches our handler, signed in", async () => {
  const lookup = `/identitytoolkit.googleapis.com/v1/projects/${PROJECT}/accounts:lookup`;
  authEmulator.on("POST", lookup, { json: { kind: "identitytoolkit#GetAccountInfoResponse", users: [{ localId: UID, createdAt: String(Date.now()) }] } });
  const { getJobResult } = await import("../../src/triggers/https/jobs.js");
  const server = await serveCallable(getJobResult);
  try {
    // A jobId of the wrong type: only a signed-in call gets as far as validating it.
    const answer = await postCallable(server.url, { data: { jobId: 5 } }, { Authorization: `Bearer ${emulatorIdToken}` });
    assert.equal(answer.status, 400, JSON.stringify(answer.json));
    assert.equal(answer.json?.error?.details?.reason, "request-invalid");
    assert.equal(authEmulator.callsTo("POST", lookup)[0]?.json?.localId?.[0], UID, "firebase-admin verified it against the Auth emulator");
  } finally {
    await server.close();
  }
});
