/**
 * docs/CLIENT-API.md and docs/client-api.schema.json stay true: they are what `npm run docs:api`
 * generates now; every client-facing function is documented; every error reason the code can give
 * is documented with its code (and uploadImage's HTTP status), and none is documented that the code
 * no longer gives; every request field has words; the response schemas agree with the handlers'
 * types (checked when this file is type-checked); and each platform's snippet shows every flow.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import type { z } from "zod";
import { clientApiJsonSchema, ENTRY_POINTS, JOB_DOC_FIELDS_DOC } from "../../src/contract/clientApi.js";
import { ERROR_CODES, REASONS } from "../../src/contract/errors.js";
import type * as responses from "../../src/contract/responses.js";
import { JOB_DOC_FIELDS } from "../../src/jobs/schema.js";
import type { CreateJobResponse } from "../../src/jobs/createJob.js";
import type { ackJobResult, cancelJob, getJobResult } from "../../src/jobs/ownerActions.js";
import type { PrivacyChoicesResponse } from "../../src/privacy/choices.js";
import type { DeletionResult } from "../../src/privacy/deleteData.js";
import type { UserDataExport } from "../../src/privacy/exportData.js";
import type { UploadResponse } from "../../src/uploads/uploadImage.js";
import { DOC_PATH, fieldRows, readSnippet, renderClientApiDoc, renderClientApiSchema, SCHEMA_PATH, SNIPPETS } from "../../../scripts/client-api/render.js";
import { findReasonSites, type ReasonSite } from "./reasonSites.js";

// ---------------------------------------------------------------- response schemas vs handler types

/** Every key path of a type (`.a.b`, `.list[].c`), through unions and optional fields. */
type AllKeys<T> = T extends unknown ? keyof T : never;
type ValueAt<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;
type Paths<T, P extends string = ""> = T extends readonly (infer U)[]
  ? Paths<U, `${P}[]`>
  : T extends object
    ? { [K in AllKeys<T> & string]: `${P}.${K}` | Paths<NonNullable<ValueAt<T, K>>, `${P}.${K}`> }[AllKeys<T> & string]
    : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Each assignable to the other, and the same key paths (so an optional field on one side only is caught). */
type Agree<Schema extends z.ZodType, Handler> = Same<z.infer<Schema>, Handler> extends true ? Same<Paths<z.infer<Schema>>, Paths<Handler>> : false;

// A `false` here is a type error naming the entry point: make responses.ts and the handler agree.
const responsesAgree: Record<string, true> = {
  createJob: true satisfies Agree<typeof responses.createJobResponseSchema, CreateJobResponse>,
  getJobResult: true satisfies Agree<typeof responses.getJobResultResponseSchema, Awaited<ReturnType<typeof getJobResult>>>,
  ackJobResult: true satisfies Agree<typeof responses.ackJobResultResponseSchema, Awaited<ReturnType<typeof ackJobResult>>>,
  cancelJob: true satisfies Agree<typeof responses.cancelJobResponseSchema, Awaited<ReturnType<typeof cancelJob>>>,
  uploadImage: true satisfies Agree<typeof responses.uploadImageResponseSchema, UploadResponse>,
  exportMyData: true satisfies Agree<typeof responses.exportMyDataResponseSchema, UserDataExport>,
  deleteMyData: true satisfies Agree<typeof responses.deleteMyDataResponseSchema, DeletionResult>,
  setPrivacyChoices: true satisfies Agree<typeof responses.privacyChoicesResponseSchema, PrivacyChoicesResponse>,
};
// The check itself can fail: an extra optional field, a missing one, a wrong type.
// @ts-expect-error a handler field the schema lacks
true satisfies Agree<typeof responses.uploadImageResponseSchema, UploadResponse & { extra?: string }>;
// @ts-expect-error a schema field the handler lacks
true satisfies Agree<typeof responses.ackJobResultResponseSchema, { jobId: string }>;
// @ts-expect-error a field of another type
true satisfies Agree<typeof responses.cancelJobResponseSchema, { jobId: string; status: number }>;

test("every entry point that answers clients has its response checked against the handler's type", () => {
  assert.deepEqual(Object.keys(responsesAgree).sort(), ENTRY_POINTS.map((e) => e.name).sort());
});

// ---------------------------------------------------------------- generated files

function firstDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const line = a.findIndex((l, i) => l !== b[i]);
  return `first difference at line ${line + 1}:\n  generated: ${a[line]}\n  committed: ${b[line]}`;
}

test("docs/CLIENT-API.md and docs/client-api.schema.json are what npm run docs:api generates", () => {
  for (const [file, generated] of [
    [DOC_PATH, renderClientApiDoc()],
    [SCHEMA_PATH, renderClientApiSchema()],
  ] as const) {
    const committed = readFileSync(file, "utf8");
    assert.ok(committed === generated, `${file} is stale: run \`npm run docs:api\` (${firstDifference(generated, committed)})`);
  }
});

test("every function clients call is documented, as the kind it is", async () => {
  process.env.GCLOUD_PROJECT ??= "demo-photo-fixer"; // v1 (auth) triggers need it to describe themselves
  const index = (await import("../../src/index.js")) as unknown as Record<string, { __endpoint?: Record<string, unknown> }>;
  const clientFacing = Object.entries(index)
    .map(([name, fn]) => ({ name, endpoint: fn.__endpoint ?? {} }))
    .filter(({ endpoint }) => "callableTrigger" in endpoint || "httpsTrigger" in endpoint)
    .map(({ name, endpoint }) => `${name}:${"callableTrigger" in endpoint ? "callable" : "http"}`);
  assert.deepEqual(clientFacing.sort(), ENTRY_POINTS.map((e) => `${e.name}:${e.kind}`).sort());
});

test("the JSON Schema compiles (draft 2020-12) and tells a good request from a bad one", () => {
  // ajv as firebase-tools (a root devDependency) resolves it; the schema is for clients, not for the functions.
  const fromTools = createRequire(require.resolve("firebase-tools/package.json", { paths: [path.resolve(__dirname, "../../..")] }));
  const Ajv2020 = (
    fromTools("ajv/dist/2020") as { default: new (o: object) => { addSchema(s: object): void; getSchema(ref: string): ((d: unknown) => boolean) | undefined } }
  ).default;
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
  (fromTools("ajv-formats") as { default: (a: object) => void }).default(ajv);
  ajv.addSchema({ ...JSON.parse(readFileSync(SCHEMA_PATH, "utf8")), $id: "client-api" });
  const validate = (def: string, data: unknown) => ajv.getSchema(`client-api#/$defs/${def}`)!(data);
  const request = {
    requestId: randomUUID(),
    feature: "style",
    style: "sketch",
    image: { base64: "AAAA", mimeType: "image/jpeg" },
    consent: { faceDataProcessing: true, policyVersion: "2026-11" },
  };
  assert.ok(validate("createJob.request", request));
  assert.ok(validate("createJob.request", { ...request, image: { uploadId: "a".repeat(32) } }));
  assert.equal(validate("createJob.request", { ...request, consent: undefined }), false, "consent is required");
  assert.equal(
    validate("createJob.request", { ...request, image: { base64: "AAAA", mimeType: "image/jpeg", uploadId: "a".repeat(32) } }),
    false,
    "one image form",
  );
  assert.equal(validate("createJob.request", { ...request, colour: "red" }), false, "no other fields");
  assert.ok(validate("ackJobResult.response", { jobId: "a".repeat(40), deleted: true }));
  assert.ok(validate("deleteMyData.request", null), "sent without data");
});

// ---------------------------------------------------------------- words for every field

test("every request field has words, and no words are left for a field that is gone", () => {
  const defs = clientApiJsonSchema().$defs as Record<string, Record<string, unknown>>;
  for (const entry of ENTRY_POINTS.filter((e) => e.request)) {
    const paths = fieldRows(defs[`${entry.name}.request`]!).map((r) => r.path);
    const described = Object.keys(entry.fields ?? {});
    assert.deepEqual(
      { undocumented: paths.filter((p) => !described.includes(p)), stale: described.filter((p) => !paths.includes(p)) },
      { undocumented: [], stale: [] },
      `${entry.name}: functions/src/contract/clientApi.ts ENTRY_POINTS fields`,
    );
  }
  assert.deepEqual(Object.keys(JOB_DOC_FIELDS_DOC).sort(), [...JOB_DOC_FIELDS].sort(), "JOB_DOC_FIELDS_DOC covers jobs/{jobId}");
});

test("the field table follows nested objects, unions, arrays and maps", () => {
  const rows = fieldRows({
    type: "object",
    required: ["a", "u"],
    properties: {
      a: { type: "object", required: ["b"], properties: { b: { type: "string", maxLength: 3 } } },
      u: {
        anyOf: [
          { type: "object", required: ["x"], properties: { x: { type: "number" } } },
          { type: "object", properties: { y: { type: "boolean" } } },
        ],
      },
      list: { type: "array", items: { type: "object", properties: { c: { enum: ["p", "q"] } } } },
      map: { type: "object", additionalProperties: { type: "object", properties: { d: { const: true } } } },
    },
  });
  assert.deepEqual(
    rows.map((r) => [r.path, r.type, r.required, r.form ?? "", r.rules]),
    [
      ["a", "object", true, "", ""],
      ["a.b", "string", true, "", "≤ 3 characters"],
      ["u", "one of `{ x }`, `{ y }`", true, "", ""],
      ["u.x", "number", true, "`{ x }`", ""],
      ["u.y", "boolean", false, "`{ y }`", ""],
      ["list", "array of object", false, "", ""],
      ["list[].c", "`p` | `q`", false, "", ""],
      ["map", "map of object", false, "", ""],
      ["map.<key>.d", "`true`", false, "", ""],
    ],
  );
});

// ---------------------------------------------------------------- error reasons

let sites: ReasonSite[] | undefined;
const reasonSites = () => (sites ??= findReasonSites());

test("every error reason the code can give is documented, with its code and uploadImage's HTTP status", () => {
  const problems: string[] = [];
  for (const site of reasonSites()) {
    const doc = REASONS[site.reason];
    if (!doc) problems.push(`${site.at}: reason "${site.reason}" (${site.code ?? "?"}) is not in functions/src/contract/errors.ts REASONS`);
    else if (site.code && !doc.codes.includes(site.code as never))
      problems.push(`${site.at}: "${site.reason}" comes with ${site.code}, documented as ${doc.codes.join(", ")}`);
    else if (site.status !== undefined && doc.uploadStatus !== site.status)
      problems.push(`${site.at}: uploadImage answers "${site.reason}" with HTTP ${site.status}, documented as ${doc.uploadStatus ?? "none"}`);
  }
  assert.deepEqual(problems, []);
});

test("every documented reason and code is one the code gives", () => {
  const given = reasonSites();
  const problems: string[] = [];
  for (const [reason, doc] of Object.entries(REASONS)) {
    const at = given.filter((s) => s.reason === reason);
    if (!at.length) problems.push(`"${reason}" is documented but no code gives it`);
    for (const code of doc.codes) if (!at.some((s) => s.code === code)) problems.push(`"${reason}" is documented with ${code}, which no site gives`);
    // Where the sites fix an HTTP status (uploadImage's rejections), the documented one is among them.
    const statuses = at.flatMap((s) => (s.status === undefined ? [] : [s.status]));
    if (doc.uploadStatus !== undefined && statuses.length && !statuses.includes(doc.uploadStatus)) {
      problems.push(`"${reason}" is documented with uploadImage HTTP ${doc.uploadStatus}, which uploadImage does not answer`);
    }
  }
  const documentedCodes = ERROR_CODES.map((e) => e.code as string);
  for (const site of given) if (site.code && !documentedCodes.includes(site.code)) problems.push(`${site.at}: code ${site.code} is not in ERROR_CODES`);
  assert.deepEqual(problems, []);
});

test("the reason finder sees each way a reason is given", () => {
  const seen = (reason: string, where: string, extra: Partial<ReasonSite> = {}) =>
    reasonSites().some((s) => s.reason === reason && s.at.startsWith(where) && Object.entries(extra).every(([k, v]) => s[k as keyof ReasonSite] === v));
  assert.ok(seen("consent-missing", "src/jobs/createJob.ts", { code: "failed-precondition" }), "new AppError(code, message, reason)");
  assert.ok(seen("image-empty", "src/images/validate.ts", { code: "invalid-argument" }), "a one-expression wrapper (fail)");
  assert.ok(seen("quota-hourly", "src/jobs/repository.ts", { code: "resource-exhausted" }), "a template over a literal union");
  assert.ok(seen("provider-quota", "src/jobs/runProvider.ts", { code: "resource-exhausted" }), "an object literal { code, reason }");
  assert.ok(seen("upload-extra-part", "src/uploads/uploadImage.ts", { code: "invalid-argument", status: 400 }), "wrappers of wrappers (invalid → reject)");
  assert.ok(!reasonSites().some((s) => s.reason === "too-large"), "internal errors without a code are not client reasons");
});

// ---------------------------------------------------------------- snippets

test("each platform's snippet shows every flow", () => {
  const common = [
    "createJob",
    "requestId",
    "consent",
    "policyVersion",
    "retryAfterSeconds",
    "jobs",
    "getJobResult",
    "ackJobResult",
    "uploadImage",
    "X-Firebase-AppCheck",
    "Bearer",
    "exportMyData",
    "deleteMyData",
    "setPrivacyChoices",
  ];
  const perPlatform: Record<string, string[]> = {
    "web.ts": ["limitedUseAppCheckTokens: true", "crypto.randomUUID()", "functions/resource-exhausted", "onSnapshot(", "getToken(appCheck"],
    "ios.swift": [
      "HTTPSCallableOptions(requireLimitedUseAppCheckTokens: true)",
      "UUID().uuidString",
      ".resourceExhausted",
      "FunctionsErrorDetailsKey",
      "addSnapshotListener",
      "AppCheck.appCheck().token(",
    ],
    "android.kt": ["limitedUseAppCheckTokens = true", "UUID.randomUUID()", "Code.RESOURCE_EXHAUSTED", "e.details", "addSnapshotListener", "getAppCheckToken("],
    "flutter.dart": [
      "limitedUseAppCheckToken: true",
      "Uuid().v4()",
      "'resource-exhausted'",
      "e.details",
      ".snapshots()",
      "FirebaseAppCheck.instance.getToken()",
    ],
  };
  const callables = ENTRY_POINTS.map((e) => e.name);
  assert.deepEqual(SNIPPETS.map((s) => s.file).sort(), Object.keys(perPlatform).sort());
  for (const { file } of SNIPPETS) {
    const text = readSnippet(file);
    const missing = [...common, ...perPlatform[file]!].filter((needle) => !text.includes(needle));
    assert.deepEqual(missing, [], `${file} lacks`);
    // Every function a snippet calls by name exists.
    const called = [...text.matchAll(/(?:httpsCallable|getHttpsCallable)(?:<[^(]*>)?\(\s*(?:functions,\s*)?["']([A-Za-z]+)["']/g)].map((m) => m[1]!);
    assert.ok(called.length >= 5, `${file} calls the callables by name`);
    assert.deepEqual(
      called.filter((name) => !callables.includes(name)),
      [],
      `${file} calls only documented callables`,
    );
  }
});
