/**
 * What the operator commands (verify-bucket.ts, audit-privacy.ts) share: arguments, the project
 * from .firebaserc, and telling "no credentials" (skip) from "broken credentials" (fail).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";

export const ROOT = path.resolve(__dirname, "..");
/** firebase-admin lives in functions/node_modules. */
export const requireFromFunctions = createRequire(path.join(ROOT, "functions/package.json"));

export function argOf(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function firebasercProject(): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, ".firebaserc"), "utf8")) as { projects?: { default?: string } }).projects?.default;
  } catch {
    return undefined;
  }
}

/** The credential file ADC would use, if any: GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file. */
export function adcFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return env.GOOGLE_APPLICATION_CREDENTIALS;
  const configDir =
    env.CLOUDSDK_CONFIG ??
    (process.platform === "win32" && env.APPDATA ? path.join(env.APPDATA, "gcloud") : path.join(env.HOME ?? homedir(), ".config", "gcloud"));
  const file = path.join(configDir, "application_default_credentials.json");
  return existsSync(file) ? file : undefined;
}

export type CredentialCheck = { ok: true } | { ok: false; skip: boolean; why: string };

/**
 * Whether Application Default Credentials give an access token. No credentials at all is a reason
 * to skip; a credential file that does not work is a failure.
 */
export async function checkCredentials(env: NodeJS.ProcessEnv): Promise<CredentialCheck> {
  const { applicationDefault } = requireFromFunctions("firebase-admin/app") as typeof import("firebase-admin/app");
  const file = adcFile(env);
  try {
    await withTimeout(applicationDefault().getAccessToken(), 20_000);
    return { ok: true };
  } catch (error) {
    if (file) return { ok: false, skip: false, why: `the credentials in ${file} gave no access token: ${firstLine(error)}` };
    return {
      ok: false,
      skip: true,
      why:
        "no Application Default Credentials (set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, " +
        `or run \`gcloud auth application-default login\`): ${firstLine(error)}`,
    };
  }
}

/**
 * The functions' params as the deployment (or the emulator) sees them: functions/.env, then
 * .env.<project>, then .env.local for the emulator; variables already set win.
 */
export function loadFunctionsEnv(env: NodeJS.ProcessEnv, projectId: string | undefined, emulator: boolean): string[] {
  const files = [".env", ...(projectId ? [`.env.${projectId}`] : []), ...(emulator ? [".env.local"] : [])];
  const loaded: string[] = [];
  const fromFiles: Record<string, string> = {};
  for (const name of files) {
    const file = path.join(ROOT, "functions", name);
    if (!existsSync(file)) continue;
    Object.assign(fromFiles, parseEnv(readFileSync(file, "utf8")));
    loaded.push(`functions/${name}`);
  }
  for (const [key, value] of Object.entries(fromFiles)) env[key] ??= value;
  return loaded;
}

export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0];
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
