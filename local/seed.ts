/**
 * Seed data for the local stack: `config/runtime` exactly as the functions' own safe default
 * (the embedded offline `local` provider enabled and the default for every feature).
 */
import { DEFAULT_RUNTIME_CONFIG } from "../functions/src/config/runtimeConfigSchema";

export const RUNTIME_CONFIG: Record<string, unknown> = DEFAULT_RUNTIME_CONFIG;

/** Minimal structural type of an admin-SDK Firestore (avoids a type dependency on firebase-admin). */
export interface DocWriter {
  doc(path: string): { set(data: Record<string, unknown>): Promise<unknown> };
}

/** Writes `config/runtime` (overwrites). */
export async function seedRuntimeConfig(db: DocWriter, config: Record<string, unknown> = RUNTIME_CONFIG): Promise<void> {
  await db.doc("config/runtime").set(config);
}
