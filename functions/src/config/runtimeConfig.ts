/**
 * `config/runtime`: the admin-edited document (Firebase console) that switches providers on and off
 * and picks defaults. Read through a short per-instance cache so an edit takes effect within a minute
 * without a Firestore read on every job.
 */
import "../admin.js";
import { getFirestore } from "firebase-admin/firestore";
import { FEATURES, type Feature } from "../domain/features.js";
import { DEFAULT_QUOTAS, DEFAULT_RUNTIME_CONFIG, runtimeConfigSchema, type RuntimeConfig } from "./runtimeConfigSchema.js";
import { settings } from "./params.js";

export { DEFAULT_RUNTIME_CONFIG, runtimeConfigSchema, type RuntimeConfig };

// A collection declared in privacy/paths.ts as holding no user data (the privacy audit allows it).
// config/ lies below storage/, so privacy/paths.test.ts checks the declaration instead of the type.
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
  const perFeature = { ...config.quotas.perFeature };
  for (const feature of FEATURES) {
    defaults[feature] ??= DEFAULT_RUNTIME_CONFIG.defaults[feature as Feature];
    perFeature[feature] ??= DEFAULT_QUOTAS.perFeature[feature];
  }
  return { ...config, defaults, quotas: { ...config.quotas, perFeature } };
}

/** Tests and the local stack change config/runtime and need the next call to see it. */
export function clearRuntimeConfigCache(): void {
  cached = undefined;
}
