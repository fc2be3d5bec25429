/**
 * Loads a provider's adapter on first use. Adapters (and their SDKs: openai, @google/genai, sharp)
 * are imported lazily so a cold start loads none of them. Credentials are read here, inside the
 * handler, from the secrets bound to the calling function.
 */
import { PROVIDERS, type ProviderId } from "./catalog.js";
import type { ImageProvider } from "./types.js";

const secretOf = (id: ProviderId, index = 0) => PROVIDERS[id].secrets[index]!.value();

const loaders: Record<ProviderId, () => Promise<ImageProvider>> = {
  local: async () => (await import("./local/index.js")).localProvider,
  openai: async () => (await import("./openai/index.js")).createOpenAIProvider({ apiKey: secretOf("openai") }),
  gemini: async () => (await import("./gemini/index.js")).createGeminiProvider({}),
  bfl: async () => (await import("./bfl/index.js")).createBflProvider({ apiKey: secretOf("bfl") }),
  seedream: async () => (await import("./seedream/index.js")).createSeedreamProvider({ apiKey: secretOf("seedream") }),
  wan: async () => (await import("./wan/index.js")).createWanProvider({ apiKey: secretOf("wan") }),
  minimax: async () => (await import("./minimax/index.js")).createMinimaxProvider({ apiKey: secretOf("minimax") }),
  kling: async () => (await import("./kling/index.js")).createKlingProvider({ accessKey: secretOf("kling", 0), secretKey: secretOf("kling", 1) }),
  cutoutpro: async () => (await import("./cutoutpro/index.js")).createCutoutProProvider({ apiKey: secretOf("cutoutpro") }),
  picwish: async () => (await import("./picwish/index.js")).createPicWishProvider({ apiKey: secretOf("picwish") }),
};

/** For tests that substitute an adapter (e.g. to count calls); never used in production code. */
const overrides = new Map<string, ImageProvider>();
export const overrideProviderForTests = (id: ProviderId, provider: ImageProvider | undefined) =>
  provider ? overrides.set(id, provider) : overrides.delete(id);

export async function loadProvider(id: ProviderId): Promise<ImageProvider> {
  return overrides.get(id) ?? loaders[id]();
}
