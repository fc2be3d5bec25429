/**
 * The shape of `config/runtime` (admin-edited in the Firebase console) and its safe default.
 * Pure (zod only), so the local stack can seed exactly what the functions read.
 */
import { z } from "zod";
import { FEATURES } from "../providers/types.js";

const providerChoice = z.object({ provider: z.string(), model: z.string().optional() });

export const runtimeConfigSchema = z.object({
  /** Global kill switch: when true no job starts. */
  killSwitch: z.boolean().default(false),
  /** Providers that may receive face data; anything not listed is refused. */
  enabledProviders: z.array(z.string()).default(["local"]),
  /** Default provider (and optionally model) per feature. */
  defaults: z.partialRecord(z.enum(FEATURES), providerChoice).default({}),
  /** Per provider, the models clients may pick (a subset of what the adapter supports); absent = all. */
  allowedModels: z.record(z.string(), z.array(z.string())).default({}),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** What runs when no admin has written config/runtime yet: only the embedded offline provider. */
export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = runtimeConfigSchema.parse({
  enabledProviders: ["local"],
  defaults: Object.fromEntries(FEATURES.map((f) => [f, { provider: "local" }])),
});
