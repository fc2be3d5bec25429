/**
 * The providers face data may go to: the allowlist behind the privacy policy's list. Adapters are
 * imported lazily so a cold start loads no provider SDK (or sharp) until a job needs it.
 */
import type { ImageProvider } from "./types.js";

const loaders: Record<string, () => Promise<ImageProvider>> = {
  local: async () => (await import("./local/index.js")).localProvider,
};

export const PROVIDER_IDS: readonly string[] = Object.keys(loaders);

export const isKnownProvider = (id: string) => Object.hasOwn(loaders, id);

export async function loadProvider(id: string): Promise<ImageProvider> {
  const load = loaders[id];
  if (!load) throw new Error(`unknown provider ${id}`);
  return load();
}
