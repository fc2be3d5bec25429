/**
 * Loads a provider's adapter on first use. Adapters (and their SDKs: openai, @google/genai, sharp,
 * ffmpeg) are imported lazily so a cold start loads none of them. Credentials are read here, inside
 * the handler, from the secrets bound to the calling function.
 */
import { PROVIDERS, type ProviderId } from "./catalog.js";
import type { ImageProvider, VideoProvider } from "./types.js";

const secretOf = (id: ProviderId, index = 0) => PROVIDERS[id].secrets[index]!.value();

const imageLoaders = {
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
} satisfies Partial<Record<ProviderId, () => Promise<ImageProvider>>>;

const videoLoaders: Partial<Record<ProviderId, () => Promise<VideoProvider>>> = {
  local: async () => (await import("./local/video.js")).localVideoProvider,
  veo: async () => (await import("./veo/index.js")).createVeoProvider({}),
  runway: async () => (await import("./runway/index.js")).createRunwayProvider({ apiKey: secretOf("runway") }),
  kling: async () => (await import("./kling/video.js")).createKlingVideoProvider({ accessKey: secretOf("kling", 0), secretKey: secretOf("kling", 1) }),
  minimax: async () => (await import("./minimax/video.js")).createMinimaxVideoProvider({ apiKey: secretOf("minimax") }),
  seedance: async () => (await import("./seedance/index.js")).createSeedanceProvider({ apiKey: secretOf("seedance") }),
  wan: async () => (await import("./wan/video.js")).createWanVideoProvider({ apiKey: secretOf("wan") }),
};

export type ImageProviderId = keyof typeof imageLoaders;
export const IMAGE_PROVIDER_IDS = Object.keys(imageLoaders) as ImageProviderId[];
export const VIDEO_PROVIDER_IDS = () => Object.keys(videoLoaders) as ProviderId[];
export const servesImages = (id: ProviderId): id is ImageProviderId => Object.hasOwn(imageLoaders, id);
export const servesVideo = (id: ProviderId) => Object.hasOwn(videoLoaders, id);

/** For tests that substitute an adapter (e.g. to count calls); never used in production code. */
const overrides = new Map<string, ImageProvider | VideoProvider>();
export const overrideProviderForTests = (key: `${"image" | "video"}:${ProviderId}`, provider: ImageProvider | VideoProvider | undefined) =>
  provider ? overrides.set(key, provider) : overrides.delete(key);

export async function loadProvider(id: ImageProviderId): Promise<ImageProvider> {
  return (overrides.get(`image:${id}`) as ImageProvider | undefined) ?? imageLoaders[id]();
}

export async function loadVideoProvider(id: ProviderId): Promise<VideoProvider> {
  const load = videoLoaders[id];
  if (!load) throw new Error(`${id} has no video adapter`);
  return (overrides.get(`video:${id}`) as VideoProvider | undefined) ?? load();
}
