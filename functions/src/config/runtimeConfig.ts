/**
 * `config/runtime`: the admin-edited document (Firebase console) that switches providers on and off
 * and picks defaults. Read through a short per-instance cache so an edit takes effect within a minute
 * without a Firestore read on every job.
 */
import "../admin.js";
import { getFirestore } from "firebase-admin/firestore";
import { z } from "zod";
import { FEATURES, type Feature } from "../providers/types.js";
import { settings } from "./params.js";

const providerChoice = z.object({ provider: z.string(), model: z.string().optional() });

export const runtimeConfigSchema = z.object({
  /** Global kill switch: when true no job starts. */
  killSwitch: z.boolean().default(false),
  /** Providers that may receive face data; anything not listed is refused. */
  enabledProviders: z.array(z.string()).default(["local"]),
  /** Default provider (and optionally model) per feature. */
  defaults: z.partialRecord(z.enum(FEATURES), providerChoice).default({}),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** What runs when no admin has written config/runtime yet: only the embedded offline provider. */
export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = runtimeConfigSchema.parse({
  enabledProviders: ["local"],
  defaults: Object.fromEntries(FEATURES.map((f) => [f, { provider: "local" }])),
});

export const RUNTIME_CONFIG_PATH = "config/runtime";

let cached: { value: RuntimeConfig; readAt: number } | undefined;

export async function getRuntimeConfig(now = Date.now()): Promise<RuntimeConfig> {
  if (cached && now - cached.readAt < settings().runtimeConfigCacheSeconds * 1000) return cached.value;
  const snap = await getFirestore().doc(RUNTIME_CONFIG_PATH).get();
  const parsed = snap.exists ? runtimeConfigSchema.safeParse(snap.data()) : undefined;
  // A malformed admin edit must not open the gates: fall back to the safe default and say so.
  const value = parsed?.success ? withDefaults(parsed.data) : DEFAULT_RUNTIME_CONFIG;
  if (parsed && !parsed.success) {
    const { runtimeConfigInvalid } = await import("../logging/logs.js");
    runtimeConfigInvalid(parsed.error.issues.map((i) => i.path.join(".")).join(", "));
  }
  cached = { value, readAt: now };
  return value;
}

function withDefaults(config: RuntimeConfig): RuntimeConfig {
  const defaults = { ...config.defaults };
  for (const feature of FEATURES) defaults[feature] ??= DEFAULT_RUNTIME_CONFIG.defaults[feature as Feature];
  return { ...config, defaults };
}

/** Tests and the local stack change config/runtime and need the next call to see it. */
export function clearRuntimeConfigCache(): void {
  cached = undefined;
}
