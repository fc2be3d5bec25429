/**
 * A guard in front of firebase-functions' callable protocol handler (issue #11). Before our
 * handler runs, the SDK (7.4.0, common/providers/https.js) logs parts of a malformed request
 * verbatim, outside logging/redact.ts:
 *
 * - an object with an `@type` it cannot decode: the whole object, as log fields (so a client
 *   could also forge `logging.googleapis.com/*` fields), from `decode()`;
 * - a body without `data`: the whole body; extra top-level keys: their names; a wrong
 *   Content-Type: the header's text (`isValidRequest`).
 *
 * And its recursive `decode()` overflows the stack on deep nesting (a 500 without a correlation
 * id). So a POST is answered here, the way the callable protocol answers errors, unless its body
 * is `{ data }` as JSON, `data` nests at most MAX_DEPTH levels and holds `@type` only in the
 * Int64/UInt64 form the SDK decodes (Android and iOS clients send 64-bit integers that way).
 * Other methods pass through: the SDK's CORS preflight needs OPTIONS, and it logs only the method
 * name (a token Node's HTTP parser has already validated) for the rest.
 *
 * A well-formed POST's tokens are checked next (tokenClaimsGuard.ts): firebase-admin quotes a
 * forged token's claims in the error the SDK logs, so one whose quoted claims are not a genuine
 * token's is answered here too (`unauthenticated`, or `permission-denied` for App Check).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpsError } from "firebase-functions/v2/https";
import { AppError } from "../../errors.js";
import { quotableTokenRefusal } from "./tokenClaimsGuard.js";

/** Deeper than any request of the contract (≤ 4 levels), far below where `decode()` overflows. */
export const MAX_DEPTH = 64;

/** The `@type` values the SDK decodes (to a number); every other one it logs and fails on. */
const DECODABLE_TYPES = new Set(["type.googleapis.com/google.protobuf.Int64Value", "type.googleapis.com/google.protobuf.UInt64Value"]);

/** Why a request is refused; the client sees one message, the reason names none of its content. */
export type MalformedBody = "content-type" | "envelope" | "type-tag" | "depth";

const MESSAGES: Record<MalformedBody, string> = {
  "content-type": "A callable request must be sent as application/json.",
  envelope: "A callable request body must be an object with exactly one field, `data`.",
  "type-tag": "The request holds an `@type` value that is not a 64-bit integer.",
  depth: `The request nests deeper than ${MAX_DEPTH} levels.`,
};

/** Express's request as the Functions runtime hands it over: the JSON body already parsed. */
type ParsedRequest = IncomingMessage & { body?: unknown };
type HttpHandler = (req: ParsedRequest, res: ServerResponse) => unknown;

/**
 * Wraps the function `onCall` returned, keeping what deployment, the emulator and tests read on it
 * (`__endpoint`, the `__trigger` getter, `run`, `stream`, …). `reflectOrigin`: the callable uses
 * the SDK's default CORS (any origin), so a refusal carries the same header a browser needs.
 */
// `never[]`: the SDK types its handler with Express's Request, which a Node request is not.
export function guardCallableBody<F extends (...args: never[]) => unknown>(name: string, callable: F, { reflectOrigin }: { reflectOrigin: boolean }): F {
  const handler = callable as unknown as HttpHandler;
  const guarded = (req: ParsedRequest, res: ServerResponse) => {
    if (req.method !== "POST") return handler(req, res);
    const problem = malformedCallableBody(req);
    if (problem) return refuse(name, new AppError("invalid-argument", MESSAGES[problem], "request-malformed"), problem, req, res, reflectOrigin);
    const token = quotableTokenRefusal(req.headers);
    if (token) return refuse(name, token.error, token.problem, req, res, reflectOrigin);
    return handler(req, res);
  };
  for (const key of Reflect.ownKeys(callable)) {
    if (key === "length" || key === "name" || key === "prototype") continue;
    Object.defineProperty(guarded, key, Object.getOwnPropertyDescriptor(callable, key)!);
  }
  return guarded as unknown as F;
}

/** What is wrong with a POST's body for the callable protocol, if anything. Never recurses. */
export function malformedCallableBody(req: ParsedRequest): MalformedBody | undefined {
  const contentType = String(req.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  if (contentType !== "application/json") return "content-type";
  const body = req.body;
  if (!isPlainObject(body)) return "envelope";
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== "data") return "envelope";
  const pending: [unknown, number][] = [[body.data, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (value === null || typeof value !== "object") continue;
    if (depth > MAX_DEPTH) return "depth";
    if (Object.hasOwn(value, "@type")) {
      if (isDecodableInteger(value as Record<string, unknown>)) continue;
      return "type-tag";
    }
    for (const child of Object.values(value)) if (child !== null && typeof child === "object") pending.push([child, depth + 1]);
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** `{ "@type": Int64Value | UInt64Value, "value": "<digits>" }`, exactly as the client SDKs send it. */
function isDecodableInteger(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 2 && DECODABLE_TYPES.has(value["@type"] as string) && typeof value.value === "string" && /^-?\d{1,20}$/.test(value.value);
}

/** `problem` names what was wrong (ours, never the request's text), for the log line only. */
async function refuse(name: string, refusal: AppError, problem: string, req: ParsedRequest, res: ServerResponse, reflectOrigin: boolean): Promise<void> {
  const error = new HttpsError(refusal.code, refusal.message, { reason: refusal.reason });
  // The SDK's own wire form (HttpsError.toJSON), so client SDKs surface `invalid-argument` + details.
  const body = JSON.stringify({ error: error.toJSON() });
  const origin = req.headers.origin;
  if (reflectOrigin && origin) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
  }
  res.statusCode = error.httpErrorCode.status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.end(body);
  // Loaded on the first refusal only, so loading the index stays as cheap as one bare onCall.
  (await import("../../logging/logs.js")).requestRejected(name, refusal.code, `${refusal.reason}:${problem}`);
}
