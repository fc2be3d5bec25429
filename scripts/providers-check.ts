/**
 * `npm run providers:check`: which models are shut down, or will be within the window, from the
 * lifecycle data in the provider descriptors (functions/src/providers/<id>/descriptor.ts), checked against the adapters' built-in
 * defaults and model lists and, optionally, an export of `config/runtime`. Offline; no provider is
 * called and no credential is read.
 *
 *   npm run providers:check                           as of today, 60-day window
 *   npm run providers:check -- --config runtime.json  also the admins' defaults, enabled providers
 *                                                     and allowedModels (the config/runtime document as JSON)
 *   options: --days N (60)  --now YYYY-MM-DD (a dry run for another day)
 *
 * Exit codes: 0 nothing in use is shut down; 1 a default (built-in or configured) or an enabled
 * model is past its shutdown day; 2 the check could not run (bad arguments or config file).
 */
import { readFileSync } from "node:fs";
import { runtimeConfigSchema, type RuntimeConfig } from "../functions/src/config/runtimeConfigSchema";
import { PROVIDER_IDS, PROVIDERS, type ProviderId } from "../functions/src/providers/catalog";
import { daysUntilShutdown, isModelRetired, modelFact } from "../functions/src/providers/lifecycle";
import { argOf, firstLine } from "./operator";

/** What each adapter serves: its default per feature (video included) and every model it accepts. */
export interface AdapterModels {
  image?: { defaults: Record<string, string>; allowed: readonly string[] };
  video?: { default: string; allowed: readonly string[] };
}
export type BuiltInModels = Partial<Record<ProviderId, AdapterModels>>;

const defaultsOf = (models: AdapterModels): [string, string][] => [
  ...Object.entries(models.image?.defaults ?? {}),
  ...(models.video ? [["video", models.video.default] as [string, string]] : []),
];
const allowedOf = (models: AdapterModels): string[] => [...new Set([...(models.image?.allowed ?? []), ...(models.video?.allowed ?? [])])];

export interface LifecycleReport {
  lines: string[];
  problems: number;
}

/** Pure: the report for `now`, given the adapters' models and (optionally) config/runtime. */
export function lifecycleReport(builtIn: BuiltInModels, now: Date, windowDays: number, config?: RuntimeConfig): LifecycleReport {
  const lines: string[] = [];
  let problems = 0;
  const problem = (line: string) => {
    problems++;
    lines.push(`PROBLEM  ${line}`);
  };
  const replacementOf = (id: ProviderId, model: string) => {
    const replacement = modelFact(id, model)?.replacement;
    return replacement ? `; use ${replacement}` : "";
  };

  lines.push(`providers:check as of ${now.toISOString().slice(0, 10)} (window ${windowDays} days)`);
  for (const id of PROVIDER_IDS) {
    for (const fact of PROVIDERS[id].models) {
      const days = daysUntilShutdown(fact, now);
      if (days === undefined || days > windowDays) continue;
      const when = days <= 0 ? `shut down on ${fact.shutdownOn}` : `shuts down on ${fact.shutdownOn} (in ${days} days)`;
      lines.push(
        `${days <= 0 ? "RETIRED" : "SOON   "}  ${id}/${fact.id}: ${when}${fact.replacement ? `; replacement ${fact.replacement}` : ""} [${fact.source}]`,
      );
    }
  }

  const enabled = (id: ProviderId) => !config || config.enabledProviders.includes(id);
  for (const id of PROVIDER_IDS) {
    const models = builtIn[id];
    if (!models) continue;
    for (const [feature, model] of defaultsOf(models)) {
      if (isModelRetired(id, model, now)) problem(`${id}: the built-in ${feature} default ${model} is shut down${replacementOf(id, model)} (adapter)`);
    }
    if (!enabled(id)) continue;
    const accepted = allowedOf(models);
    const admitted = accepted.filter((m) => config?.allowedModels[id]?.includes(m) ?? true);
    for (const model of admitted) {
      if (isModelRetired(id, model, now))
        problem(`${id}: ${model} is shut down but still accepted${replacementOf(id, model)} (remove it from the adapter or config/runtime.allowedModels)`);
    }
    for (const model of config?.allowedModels[id] ?? []) {
      if (!accepted.includes(model) && isModelRetired(id, model, now))
        problem(`${id}: config/runtime.allowedModels lists ${model}, which is shut down${replacementOf(id, model)}`);
    }
  }
  for (const [feature, choice] of Object.entries(config?.defaults ?? {})) {
    if (choice?.model && PROVIDER_IDS.includes(choice.provider as ProviderId) && isModelRetired(choice.provider as ProviderId, choice.model, now)) {
      problem(
        `config/runtime.defaults.${feature}: ${choice.provider}/${choice.model} is shut down${replacementOf(choice.provider as ProviderId, choice.model)}`,
      );
    }
  }
  lines.push(problems ? `${problems} problem(s): a default or an enabled model is shut down.` : "No default or enabled model is shut down.");
  return { lines, problems };
}

/** Loads every adapter for its model lists. Placeholder credentials: nothing is sent anywhere. */
export async function builtInModels(): Promise<BuiltInModels> {
  for (const secret of Object.values(PROVIDERS).flatMap((p) => p.secrets)) process.env[secret.name] ??= "providers-check-placeholder";
  process.env.GOOGLE_CLOUD_PROJECT ??= "demo-photo-fixer";
  const registry = await import("../functions/src/providers/registry.js");
  const result: BuiltInModels = {};
  for (const id of PROVIDER_IDS) {
    const models: AdapterModels = {};
    if (registry.servesImages(id)) {
      const { defaults, allowed } = (await registry.loadProvider(id)).models;
      models.image = { defaults: defaults as Record<string, string>, allowed };
    }
    if (registry.servesVideo(id)) models.video = (await registry.loadVideoProvider(id)).models;
    result[id] = models;
  }
  return result;
}

export async function providersCheckCommand(argv: string[], log: (line: string) => void): Promise<number> {
  const days = Number(argOf(argv, "days") ?? 60);
  if (!Number.isInteger(days) || days < 0) {
    log("providers:check: ERROR: --days must be a whole number >= 0");
    return 2;
  }
  const nowArg = argOf(argv, "now");
  const now = nowArg ? new Date(`${nowArg}T00:00:00Z`) : new Date();
  if (Number.isNaN(now.getTime())) {
    log("providers:check: ERROR: --now must be a day, YYYY-MM-DD");
    return 2;
  }
  const configFile = argOf(argv, "config");
  let config: RuntimeConfig | undefined;
  if (configFile) {
    const parsed = runtimeConfigSchema.safeParse(JSON.parse(readFileSync(configFile, "utf8")));
    if (!parsed.success) {
      log(`providers:check: ERROR: ${configFile} is not a valid config/runtime document`);
      return 2;
    }
    config = parsed.data;
  }
  const report = lifecycleReport(await builtInModels(), now, days, config);
  for (const line of report.lines) log(line);
  return report.problems ? 1 : 0;
}

if (require.main === module) {
  providersCheckCommand(process.argv.slice(2), (line) => console.log(line)).then(
    (code) => process.exit(code),
    (error) => {
      console.error("providers:check: ERROR:", firstLine(error));
      process.exit(2);
    },
  );
}
