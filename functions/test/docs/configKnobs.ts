/**
 * The settings a deployer can set, as the code declares and reads them, and README.md's tables
 * that document them (test/docs/configDocumented.test.ts).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { declaredParams } from "firebase-functions/params";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
export const SRC_DIR = path.join(REPO_ROOT, "functions/src");

/** Set by the platform or the emulator, never by a deployer: not documented as settings. */
export const PLATFORM_ENV: Record<string, string> = {
  GOOGLE_CLOUD_PROJECT: "the project, set by Cloud Functions",
  GCLOUD_PROJECT: "the project, set by Cloud Functions and the emulator",
  K_SERVICE: "set by Cloud Run: the code runs deployed",
  FUNCTIONS_EMULATOR: "set by the Functions emulator",
  FIREBASE_STORAGE_EMULATOR_HOST: "set by the emulator suite",
  FIREBASE_AUTH_EMULATOR_HOST: "set by the emulator suite",
  FIREBASE_CONFIG: "the Firebase project's config, set by Cloud Functions and the emulator",
};

export interface ReadmeRow {
  /** Backticked setting names in the first cell (`MAX_IMAGE_BYTES`, `<PROVIDER>_BASE_URL`). */
  names: string[];
  cells: Record<string, string>;
  line: number;
}

/** Rows of every Markdown table with a `default` column, keyed by lower-case header. */
export function readDefaultTables(markdown: string): ReadmeRow[] {
  const rows: ReadmeRow[] = [];
  const lines = markdown.split("\n");
  const cellsOf = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, "")
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.trim().startsWith("|") || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? "")) continue;
    const header = cellsOf(lines[i]!).map((h) => h.toLowerCase());
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trim().startsWith("|"); j++) {
      if (!header.includes("default")) continue;
      const cells = cellsOf(lines[j]!);
      const names = [...(cells[0] ?? "").matchAll(/`([A-Z<][A-Z0-9_<>]*)`/g)].map((m) => m[1]!);
      rows.push({ names, cells: Object.fromEntries(header.map((h, k) => [h, cells[k] ?? ""])), line: j + 1 });
    }
    i = j - 1;
  }
  return rows;
}

/** `15000000`, `every 10 minutes`, `"x"` → comparable text. */
export const normalise = (text: string) =>
  text
    .replace(/[`"']/g, "")
    .replace(/(\d)[,_ ](?=\d{3}\b)/g, "$1")
    .trim();

export interface Knob {
  name: string;
  kind: "param" | "secret" | "env" | "env family";
  /** The default the code uses, where it is a literal. */
  default?: string;
  where: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith(".ts") && !full.endsWith(".test.ts") ? [full] : [];
  });
}

/** Environment variables the source reads by name (`process.env.X`, `env["X"]`, `env.X || "default"`) and families built from a provider id. */
export function envKnobs(files = sourceFiles(SRC_DIR)): Knob[] {
  const knobs = new Map<string, Knob>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const where = path.relative(REPO_ROOT, file);
    for (const m of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*"([A-Z][A-Z0-9_]*)"\s*\])(?:\s*(?:\|\||\?\?)\s*(?:"([^"]*)"|(\d+)\b))?/g)) {
      const name = (m[1] ?? m[2])!;
      const literal = m[3] ?? m[4];
      const known = knobs.get(name);
      knobs.set(name, { name, kind: "env", where: known?.where ?? where, default: literal ?? known?.default });
    }
    // `${provider.id.toUpperCase()}_POLL_DEADLINE_MS`: one variable per provider.
    for (const m of text.matchAll(/`\$\{[^`]*\}(_[A-Z][A-Z0-9_]*)`/g)) {
      const name = `<PROVIDER>${m[1]}`;
      if (!knobs.has(name)) knobs.set(name, { name, kind: "env family", where });
    }
  }
  return [...knobs.values()].filter((k) => !(k.name in PLATFORM_ENV));
}

export async function declaredKnobs(): Promise<Knob[]> {
  process.env.GCLOUD_PROJECT ??= "demo-photo-fixer"; // v1 (auth) triggers need it to load
  await import("../../src/index.js"); // every function the project deploys declares its params
  return declaredParams.map((p) => {
    const value = (p.options as { default?: unknown }).default;
    const secret = (p.constructor as { type?: string }).type === "secret";
    return { name: p.name, kind: secret ? "secret" : "param", where: "declared", ...(value !== undefined && { default: String(value) }) };
  });
}

/** Which deployed functions bind each secret. */
export async function secretBindings(): Promise<Map<string, string[]>> {
  const index = (await import("../../src/index.js")) as unknown as Record<string, { __endpoint?: { secretEnvironmentVariables?: { key: string }[] } }>;
  const bound = new Map<string, string[]>();
  for (const [fn, value] of Object.entries(index)) {
    for (const { key } of value.__endpoint?.secretEnvironmentVariables ?? []) bound.set(key, [...(bound.get(key) ?? []), fn].sort());
  }
  return bound;
}

export function problemsWith(knobs: Knob[], rows: ReadmeRow[], file = "README.md"): string[] {
  const problems: string[] = [];
  for (const knob of knobs) {
    const row = rows.find((r) => r.names.includes(knob.name));
    if (!row) {
      problems.push(`${knob.kind} ${knob.name} (${knob.where}) has no row in a table of docs/CONFIGURATION.md with a "default" column`);
      continue;
    }
    const documented = normalise(row.cells.default ?? "");
    if (!documented) problems.push(`${file}:${row.line}: ${knob.name} has an empty default`);
    else if (knob.default !== undefined && documented !== normalise(knob.default)) {
      problems.push(`${file}:${row.line}: ${knob.name} defaults to ${knob.default}, the doc says ${row.cells.default}`);
    }
  }
  return problems;
}
