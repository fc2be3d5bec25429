/**
 * Loads a provider's adapter on first use, through its descriptor's lazy loader. Adapters (and
 * their SDKs: openai, @google/genai, sharp, ffmpeg) are imported lazily so a cold start loads none
 * of them. Credentials are read inside the loaders, in the handler, from the secrets bound to the
 * calling function.
 */
import type { ProviderDescriptor } from "./descriptor.js";
import { DESCRIPTORS, type ImageProviderId, type ProviderId } from "./descriptors.js";
import type { ImageProvider, VideoProvider } from "./types.js";
import { dependency } from "../util/dependencies.js";

export type { ImageProviderId } from "./descriptors.js";

const byId = new Map<string, ProviderDescriptor>(DESCRIPTORS.map((d) => [d.id, d]));

export const IMAGE_PROVIDER_IDS = DESCRIPTORS.filter((d) => "loadImage" in d).map((d) => d.id) as ImageProviderId[];
const VIDEO_IDS = DESCRIPTORS.filter((d) => "loadVideo" in d).map((d) => d.id) as ProviderId[];
export const VIDEO_PROVIDER_IDS = () => [...VIDEO_IDS];
export const servesImages = (id: ProviderId): id is ImageProviderId => Boolean(byId.get(id)?.loadImage);
export const servesVideo = (id: ProviderId) => Boolean(byId.get(id)?.loadVideo);

export interface AdapterLoaders {
  image(id: ImageProviderId): Promise<ImageProvider>;
  video(id: ProviderId): Promise<VideoProvider>;
}

/** Tests substitute an adapter (e.g. to count calls) through util/dependencies.ts. */
export const adapterLoaders = dependency<AdapterLoaders>("adapterLoaders", {
  async image(id) {
    const load = byId.get(id)?.loadImage;
    if (!load) throw new Error(`${id} has no image adapter`);
    return load();
  },
  async video(id) {
    const load = byId.get(id)?.loadVideo;
    if (!load) throw new Error(`${id} has no video adapter`);
    return load();
  },
});

export const loadProvider = (id: ImageProviderId): Promise<ImageProvider> => adapterLoaders.get().image(id);
export const loadVideoProvider = (id: ProviderId): Promise<VideoProvider> => adapterLoaders.get().video(id);
