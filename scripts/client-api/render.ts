/**
 * Renders the client contract (functions/src/contract/) and the snippets next to this file into
 * docs/CLIENT-API.md and docs/client-api.schema.json. Pure: the same sources give the same bytes,
 * so `functions/test/docs/clientApi.test.ts` can regenerate and compare.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { clientApiJsonSchema, DEFAULT_SETTINGS, ENTRY_POINTS, JOB_DOC_FIELDS_DOC } from "../../functions/src/contract/clientApi";
import { ERROR_CODES, REASON_GROUPS, REASONS, type ReasonGroup } from "../../functions/src/contract/errors";
import { userDataLocations } from "../../functions/src/privacy/paths";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const DOC_PATH = path.join(REPO_ROOT, "docs/CLIENT-API.md");
export const SCHEMA_PATH = path.join(REPO_ROOT, "docs/client-api.schema.json");
export const SNIPPETS_DIR = path.join(__dirname, "snippets");

/** The platforms, in the order the docs show them, with their snippet file. */
export const SNIPPETS = [
  { title: "JavaScript / TypeScript (Web, modular SDK)", file: "web.ts", fence: "ts" },
  { title: "Swift (iOS, FirebaseFunctions)", file: "ios.swift", fence: "swift" },
  { title: "Kotlin (Android)", file: "android.kt", fence: "kotlin" },
  { title: "Flutter (Dart, cloud_functions)", file: "flutter.dart", fence: "dart" },
] as const;

type Json = Record<string, unknown>;

export interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  /** For a field of one form of a union (`{ uploadId }`): required only in that form. */
  form?: string;
  rules: string;
  meaning: string;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
const code = (text: string) => "`" + text + "`";

/** Drops a `null` alternative (a request that may be sent without data). */
function nonNull(schema: Json): Json {
  const alternatives = schema.anyOf as Json[] | undefined;
  if (!alternatives) return schema;
  const rest = alternatives.filter((alt) => alt.type !== "null");
  return rest.length === 1 ? { ...rest[0], ...(schema.description ? { description: schema.description } : {}) } : schema;
}

/** `{ a, b }` for an object form, from its property names. */
const shapeOf = (schema: Json) => code(`{ ${Object.keys((schema.properties as Json | undefined) ?? {}).join(", ")} }`);

function typeOf(schema: Json): string {
  const s = nonNull(schema);
  if ("const" in s) return code(JSON.stringify(s.const));
  if (Array.isArray(s.enum)) return s.enum.map((v) => code(String(v))).join(" | ");
  if (Array.isArray(s.anyOf)) {
    const forms = s.anyOf as Json[];
    return forms.every((f) => f.type === "object" && f.properties) ? `one of ${forms.map(shapeOf).join(", ")}` : forms.map(typeOf).join(" or ");
  }
  if (s.type === "array") return `array of ${typeOf((s.items as Json) ?? {})}`;
  if (s.type === "object") {
    if (s.properties) return "object";
    if (s.additionalProperties && typeof s.additionalProperties === "object") return `map of ${typeOf(s.additionalProperties as Json)}`;
    return "object";
  }
  return typeof s.type === "string" ? s.type : "any";
}

function rulesOf(schema: Json): string {
  const s = nonNull(schema);
  const rules: string[] = [];
  if (s.format === "uuid") rules.push("UUID");
  else if (typeof s.pattern === "string") rules.push(code(s.pattern));
  if (typeof s.minLength === "number" && typeof s.maxLength === "number") rules.push(`${s.minLength}–${s.maxLength} characters`);
  else if (typeof s.maxLength === "number") rules.push(`≤ ${s.maxLength} characters`);
  else if (typeof s.minLength === "number") rules.push(`≥ ${s.minLength} characters`);
  if (typeof s.minimum === "number" && typeof s.maximum === "number") rules.push(`${s.minimum}–${s.maximum}`);
  if (s.propertyNames && typeof (s.propertyNames as Json).pattern === "string") rules.push(`keys ${code((s.propertyNames as Json).pattern as string)}`);
  if (s.additionalProperties === false && s.properties) rules.push("no other fields");
  return rules.join("; ");
}

/** A sub-schema documented in a section of its own (the receipt): rows link to it instead of repeating it. */
export interface NamedSchema {
  json: Json;
  link: string;
}

const withoutDescription = (schema: Json) => JSON.stringify({ ...schema, description: undefined });

/**
 * One row per field, depth first: objects, arrays of objects (`a[].b`), maps of objects
 * (`a.<key>.b`), and each form of a union of objects (its fields are required in that form).
 */
export function fieldRows(schema: Json, named: NamedSchema[] = [], prefix = "", out: FieldRow[] = [], form?: string): FieldRow[] {
  const s = nonNull(schema);
  if (Array.isArray(s.anyOf)) {
    (s.anyOf as Json[]).forEach((alt) => fieldRows(alt, named, prefix, out, form));
    return out;
  }
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [key, raw] of Object.entries((s.properties as Record<string, Json> | undefined) ?? {})) {
    const field = nonNull(raw);
    const fieldPath = prefix ? `${prefix}.${key}` : key;
    const link = named.find((n) => withoutDescription(n.json) === withoutDescription(field))?.link;
    if (!out.some((row) => row.path === fieldPath)) {
      out.push({
        path: fieldPath,
        type: link ?? typeOf(field),
        required: required.has(key),
        ...(form && { form }),
        rules: rulesOf(field),
        meaning: (raw.description ?? field.description ?? "") as string,
      });
    }
    if (link) continue;
    const objectForms = Array.isArray(field.anyOf) ? (field.anyOf as Json[]).filter((alt) => alt.type === "object" && alt.properties) : [];
    if (field.type === "object" && field.properties) fieldRows(field, named, fieldPath, out, form);
    else if (objectForms.length) objectForms.forEach((alt) => fieldRows(alt, named, fieldPath, out, shapeOf(alt)));
    else if (field.type === "array" && (field.items as Json | undefined)?.type === "object") fieldRows(field.items as Json, named, `${fieldPath}[]`, out, form);
    else if (field.type === "object" && (field.additionalProperties as Json | undefined)?.type === "object") {
      fieldRows(field.additionalProperties as Json, named, `${fieldPath}.<key>`, out, form);
    }
  }
  return out;
}

function fieldTable(rows: FieldRow[], withRules: boolean): string[] {
  if (!rows.length) return ["No fields (`{}`; the call may also be sent without data)."];
  const needed = (r: FieldRow) => (r.required ? (r.form ? `yes, in ${r.form}` : "yes") : "no");
  const head = withRules
    ? ["| field | type | required | rules | meaning |", "| --- | --- | --- | --- | --- |"]
    : ["| field | type | always | meaning |", "| --- | --- | --- | --- |"];
  return [
    ...head,
    ...rows.map((r) =>
      withRules
        ? `| ${code(r.path)} | ${cell(r.type)} | ${needed(r)} | ${cell(r.rules)} | ${cell(r.meaning)} |`
        : `| ${code(r.path)} | ${cell(r.type)} | ${needed(r)} | ${cell(r.meaning)} |`,
    ),
  ];
}

const anchor = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");

export function readSnippet(file: string): string {
  return readFileSync(path.join(SNIPPETS_DIR, file), "utf8").trimEnd();
}

export function renderClientApiDoc(): string {
  const schema = clientApiJsonSchema().$defs as Record<string, Json>;
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  const s = DEFAULT_SETTINGS;
  const named: NamedSchema[] = [{ json: schema.jobReceipt!, link: "[receipt](#the-privacy-receipt)" }];

  push(
    "# Photo Fixer client API",
    "",
    "<!-- Generated by `npm run docs:api` from functions/src/contract/ and scripts/client-api/snippets/. Do not edit: functions/test/docs/clientApi.test.ts fails when this file is stale. -->",
    "",
    "Everything a mobile or web client needs: each entry point's request and response, the errors and their",
    "reasons, the job document a client may listen to, and the same flows in JavaScript, Swift, Kotlin and",
    "Flutter. The request schemas are the zod schemas the functions parse requests with; the response",
    "schemas are checked against the handlers' types. The same types as JSON Schema (draft 2020-12):",
    "[client-api.schema.json](client-api.schema.json) (`$defs`: `<name>.request`, `<name>.response`).",
    "",
    "## Basics",
    "",
    "- **Callables** (`httpsCallable`) in region **`us-central1`**. Every call needs **Firebase Auth** (anonymous",
    "  sign-in is enough; otherwise `unauthenticated`) and, in production, **App Check** (otherwise",
    "  `permission-denied`).",
    "- **`createJob` consumes its App Check token** (replay protection: it is the call that costs money), so",
    "  clients must call it with **limited-use tokens**: `limitedUseAppCheckTokens: true` (Web, Android),",
    "  `HTTPSCallableOptions(requireLimitedUseAppCheckTokens: true)` (iOS), `limitedUseAppCheckToken: true`",
    "  (Flutter). The other callables take ordinary tokens.",
    "- **Timeouts**: image jobs run inside the call (async providers are polled until their deadline), so give",
    "  `createJob` a client timeout of up to 540 s (the SDKs default to 60–70 s). `deleteMyData` may also take long.",
    "- **Idempotency**: `requestId` (a UUID the client makes) names the job; retrying a call with the same one",
    "  never creates a second job or provider call.",
    "- **Global Privacy Control**: a `Sec-GPC: 1` header on any call (or `gpc: true` to setPrivacyChoices) is an",
    "  opt-out of sale and sharing; it never fails the call.",
    "- **Errors** are `HttpsError`s: a code (below), a message for people (it names the field and never quotes",
    "  the photo or the prompt) and `details`: `{ reason, retryAfterSeconds?, retryAt? }`, or `{ correlationId }`",
    "  for `internal`. Branch on `code` and `details.reason`, never on the message.",
    `- **Limits** shown are the defaults; a deployment may change them (params \`MAX_IMAGE_BYTES\` ${s.maxImageBytes}, \`MAX_IMAGE_PIXELS\` ${s.maxImagePixels}, \`MAX_PROMPT_CHARS\` ${s.maxPromptChars}, \`UPLOAD_TTL_MINUTES\` ${s.uploadTtlMinutes}, \`RESULT_TTL_MINUTES\` ${s.resultTtlMinutes}, \`RESULT_URL_MINUTES\` ${s.resultUrlMinutes}).`,
    "",
    "| entry point | kind | what it does |",
    "| --- | --- | --- |",
    ...ENTRY_POINTS.map(
      (e) =>
        `| [${code(e.name)}](#${anchor(e.name)}) | ${e.kind === "callable" ? "callable" : "HTTPS POST"} | ${cell(e.summary.split(". ")[0]!.replace(/\.$/, ""))} |`,
    ),
    "",
  );

  for (const entry of ENTRY_POINTS) {
    push(`## ${entry.name}`, "", entry.summary, "");
    if (entry.request) {
      push("**Request**", "", ...fieldTable(fieldRows(schema[`${entry.name}.request`]!), true), "");
    } else {
      push("**Request**: multipart, see [uploadImage over HTTP](#uploadimage-over-http).", "");
    }
    const response = schema[`${entry.name}.response`]!;
    const forms = Array.isArray(response.anyOf) ? (response.anyOf as Json[]) : [response];
    forms.forEach((form) => {
      const title = forms.length > 1 ? `**Response**, ${String(form.description ?? "").replace(/^\w/, (c) => c.toLowerCase())}` : "**Response**";
      push(title, "", ...fieldTable(fieldRows(form, named), false), "");
    });
    for (const note of entry.notes ?? []) push(`- ${note}`);
    if (entry.notes?.length) push("");
  }

  push(
    "## The privacy receipt",
    "",
    "createJob (with an image result, and on a retried `requestId`) and getJobResult hand the job's owner a",
    "`receipt`, built from the job's status alone: which provider received the photo and what it keeps, when our",
    "copies of the face went, and when the result and the status go. Show it with the job.",
    "",
    ...fieldTable(fieldRows(schema.jobReceipt!), false),
    "",
    "## uploadImage over HTTP",
    "",
    "`POST https://us-central1-<project>.cloudfunctions.net/uploadImage` (emulator:",
    "`http://127.0.0.1:5001/<project>/us-central1/uploadImage`). Not a callable: the client sends the tokens itself.",
    "",
    "| part | value |",
    "| --- | --- |",
    "| `Authorization` | `Bearer <Firebase ID token>` (checked before the body is read) |",
    "| `X-Firebase-AppCheck` | an App Check token (an ordinary one; required outside the emulator) |",
    "| `Content-Type` | `multipart/form-data; boundary=…` |",
    `| body | exactly one part, a file named \`file\` (JPEG, PNG, WebP or HEIC/HEIF, up to ${s.maxImageBytes / 1_000_000} MB); no other fields. Its type is read from the bytes; a declared part type must agree |`,
    "| `Sec-GPC: 1` | optional: an opt-out of sale and sharing |",
    "",
    "`200`: `{ uploadId, expiresAt }` (above). Otherwise JSON `{ error: { code, message, reason } }` with:",
    "",
    "| HTTP status | code | reasons |",
    "| --- | --- | --- |",
    ...uploadStatusRows(),
    "",
    "A rejected or interrupted upload leaves nothing stored. CORS is open (the request carries a bearer token,",
    "never cookies). Deployed, Cloud Run caps a request at 32 MiB.",
    "",
    "## Watching a job: `jobs/{jobId}`",
    "",
    "The job's owner may read (and listen to) `jobs/{jobId}` with the Firestore SDK; it holds status fields only,",
    "never the photo, the prompt or a URL. Video clients listen until `status` is final, then call getJobResult.",
    "(Clients of the local stack poll getJobResult instead: its Firestore speaks gRPC only.)",
    "",
    "| field | meaning |",
    "| --- | --- |",
    ...Object.entries(JOB_DOC_FIELDS_DOC).map(([field, meaning]) => `| ${code(field)} | ${cell(meaning)} |`),
    "",
    "## Where user data lives",
    "",
    "The keys of exportMyData's `data` and deleteMyData's `deleted`:",
    "",
    "| id | category | kept | on deleteMyData |",
    "| --- | --- | --- | --- |",
    ...userDataLocations("<uid>", DEFAULT_SETTINGS).map(
      (l) =>
        `| ${code(l.id)} | ${code(l.category)} | ${cell(l.retention.text)} | ${l.onDelete.action === "keep" ? `kept: ${cell(l.onDelete.reason)}` : "deleted"} |`,
    ),
    "",
    "## Errors",
    "",
    "### Codes",
    "",
    "| code | HTTP | when | what the client should do |",
    "| --- | --- | --- | --- |",
    ...ERROR_CODES.map((e) => `| ${code(e.code)} | ${e.httpStatus} | ${cell(e.when)} | ${cell(e.clientAction)} |`),
    "",
    "SDKs spell the codes their own way: `functions/resource-exhausted` (Web `FunctionsError.code`),",
    "`FunctionsErrorCode.resourceExhausted` (iOS, `NSError` in `FunctionsErrorDomain`; details under",
    "`FunctionsErrorDetailsKey`), `FirebaseFunctionsException.Code.RESOURCE_EXHAUSTED` (Android),",
    "`'resource-exhausted'` (Flutter `FirebaseFunctionsException.code`).",
    "",
    "### `details`",
    "",
    ...fieldTable(fieldRows(schema["callableError.details"]!), false),
    "",
    "Sign-in and App Check refusals of callables carry no `details`.",
    "",
    "### Reasons",
    "",
    "`details.reason` (and uploadImage's `error.reason`, and a failed job's `error.code`) is one of:",
    "",
  );
  for (const [group, title] of Object.entries(REASON_GROUPS) as [ReasonGroup, string][]) {
    const reasons = Object.entries(REASONS).filter(([, r]) => r.group === group);
    push(`**${title}**`, "", "| reason | code | meaning |", "| --- | --- | --- |");
    for (const [reason, doc] of reasons) {
      const codes = doc.codes.map(code).join(", ") + (doc.uploadStatus ? ` (uploadImage: HTTP ${doc.uploadStatus})` : "");
      push(`| ${code(reason)} | ${codes} | ${cell(doc.meaning)} |`);
    }
    push("");
  }

  push(
    "## Snippets",
    "",
    "Each shows: createJob with consent and a fresh UUID `requestId` on a limited-use App Check token;",
    "`resource-exhausted` retried after `details.retryAfterSeconds` with the same `requestId`; a video job",
    "(listen to `jobs/{jobId}`, getJobResult, download, ackJobResult); uploadImage with the ID token and App Check",
    "header; exportMyData, setPrivacyChoices and deleteMyData.",
    "",
  );
  for (const snippet of SNIPPETS) push(`### ${snippet.title}`, "", "```" + snippet.fence, readSnippet(snippet.file), "```", "");
  return lines.join("\n").replace(/\n+$/, "\n");
}

function uploadStatusRows(): string[] {
  const byStatus = new Map<number, { codes: Set<string>; reasons: string[] }>();
  for (const [reason, doc] of Object.entries(REASONS)) {
    if (!doc.uploadStatus) continue;
    const entry = byStatus.get(doc.uploadStatus) ?? { codes: new Set<string>(), reasons: [] };
    doc.codes.forEach((c) => entry.codes.add(c));
    entry.reasons.push(reason);
    byStatus.set(doc.uploadStatus, entry);
  }
  return [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, { codes, reasons }]) => `| ${status} | ${[...codes].map(code).join(", ")} | ${reasons.map(code).join(", ")} |`);
}

export function renderClientApiSchema(): string {
  return JSON.stringify(clientApiJsonSchema(), null, 2) + "\n";
}
