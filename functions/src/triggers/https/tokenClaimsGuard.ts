/**
 * The callable guard's token check (issue #11). firebase-functions 7.4.0 logs firebase-admin's
 * verification error whole (`logger.warn("Failed to validate auth token.", err)`, the same for App
 * Check), and firebase-admin 14.5.1 checks claims before the signature and quotes them in that
 * error, so a forged token could put any text (a prompt, a URL, a token) in a warning log line:
 *
 * - ID token: the header's `alg` (outside the Auth emulator), `aud` and `iss`
 *   (auth/token-verifier.js `verifyContent`);
 * - App Check token: the header's `alg` and `aud` (app-check/token-verifier.js `verifyContent`);
 * - either: a payload that is not JSON under a `typ: "JWT"` header, through V8's JSON.parse error
 *   (jws `jwsDecode`), which quotes the text.
 *
 * `kid` and `sub` are only tested for presence and length, and the signature errors are fixed
 * texts, so those are left to firebase-admin. So a token the SDK would verify must decode (UNVERIFIED,
 * the SDK still verifies it) to JSON objects whose quoted fields hold exactly what a genuine token
 * for this project holds. Exact values, not a character set: any set wide enough for
 * `https://securetoken.google.com/<project>` also lets a URL or a token-shaped string through.
 * Every token refused here is one firebase-admin rejects too (the same comparisons against the
 * same project id), so no genuine caller is refused.
 */
import type { IncomingHttpHeaders } from "node:http";
import { getApps } from "firebase-admin/app";
import { isEmulator } from "../../config/params.js";
import { AppError } from "../../errors.js";

const ID_TOKEN_ISSUER = "https://securetoken.google.com/";
/** Shape of a Google Cloud project id; used only when the project id cannot be read (see projectId). */
const PROJECT_ID_SHAPE = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** App Check's `aud` names the project by id and by number. */
const APP_CHECK_AUDIENCE_SHAPE = /^projects\/(?:[a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})$/;
/** jws's own test of a compact JWS: three base64url segments, the signature possibly empty. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Which part of a token is not what a genuine one holds: logged as `<reason>:<problem>`. */
export type TokenProblem = "not-a-jwt" | "alg" | "aud" | "iss";

export interface TokenRefusal {
  error: AppError;
  problem: TokenProblem;
}

/** The refusal for the first token (ID token, then App Check, as the SDK checks them) that could be quoted. */
export function quotableTokenRefusal(headers: IncomingHttpHeaders): TokenRefusal | undefined {
  // The SDK's own reading: `Bearer <token>`, one space; anything else it refuses without logging.
  const bearer = /^Bearer (.*)$/i.exec(headers.authorization ?? "")?.[1];
  if (bearer !== undefined) {
    const problem = idTokenProblem(bearer);
    if (problem)
      return {
        problem,
        error: new AppError("unauthenticated", "Sign in to use Photo Fixer (the ID token is not one this project issued).", "id-token-malformed"),
      };
  }
  const appCheck = headers["x-firebase-appcheck"];
  if (typeof appCheck === "string" && appCheck) {
    const problem = appCheckProblem(appCheck);
    if (problem) return { problem, error: new AppError("permission-denied", "This app could not be verified (App Check).", "app-check-malformed") };
  }
  return undefined;
}

function idTokenProblem(token: string): TokenProblem | undefined {
  const jwt = decodeUnverified(token);
  if (!jwt) return "not-a-jwt";
  // The Auth emulator signs nothing (`alg: "none"`); firebase-admin skips the `alg` check there.
  const algorithms = isEmulator() || process.env.FIREBASE_AUTH_EMULATOR_HOST ? ["RS256", "none"] : ["RS256"];
  if (!algorithms.includes(jwt.header.alg as string)) return "alg";
  const project = projectId();
  const aud = jwt.payload.aud;
  if (typeof aud !== "string" || !(project ? aud === project : PROJECT_ID_SHAPE.test(aud))) return "aud";
  if (jwt.payload.iss !== ID_TOKEN_ISSUER + aud) return "iss";
  return undefined;
}

function appCheckProblem(token: string): TokenProblem | undefined {
  const jwt = decodeUnverified(token);
  if (!jwt) return "not-a-jwt";
  if (jwt.header.alg !== "RS256") return "alg";
  // firebase-admin quotes `aud` (the whole array) only when it lacks `projects/<id>`.
  const aud = jwt.payload.aud;
  if (!Array.isArray(aud) || aud.length === 0) return "aud";
  const project = projectId();
  if (project ? !aud.includes(`projects/${project}`) : !aud.every((a) => typeof a === "string" && APP_CHECK_AUDIENCE_SHAPE.test(a))) return "aud";
  return undefined;
}

type JsonObject = Record<string, unknown>;

/** Header and payload as jws decodes them, or undefined unless both are JSON objects. */
function decodeUnverified(token: string): { header: JsonObject; payload: JsonObject } | undefined {
  if (!COMPACT_JWS.test(token)) return undefined;
  const [header, payload] = token.split(".", 2).map(parseJsonObject);
  return header && payload ? { header, payload } : undefined;
}

function parseJsonObject(segment: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The project id firebase-admin compares with (utils `findProjectId`): the options of the app the
 * SDK verifies with (ours, else the one it makes from FIREBASE_CONFIG), then the environment.
 * Cloud Functions and the emulator always set GCLOUD_PROJECT; were none set, firebase-admin would
 * ask the metadata server, and the shape checks above bound what it could quote.
 */
function projectId(): string | undefined {
  const apps = getApps();
  const app = apps.find((a) => a.name === "[DEFAULT]") ?? apps.find((a) => a.name === "__FIREBASE_FUNCTIONS_SDK__");
  return app?.options.projectId || firebaseConfigProjectId() || process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT || undefined;
}

function firebaseConfigProjectId(): string | undefined {
  const config = process.env.FIREBASE_CONFIG;
  if (!config?.startsWith("{")) return undefined;
  try {
    const projectId: unknown = JSON.parse(config).projectId;
    return typeof projectId === "string" ? projectId : undefined;
  } catch {
    return undefined;
  }
}
