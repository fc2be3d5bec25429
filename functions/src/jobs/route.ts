/**
 * Chooses the provider and model for a request from what the client asked and what admins allow
 * in config/runtime. Refusals here happen before any face data leaves the function.
 */
import type { RuntimeConfig } from "../config/runtimeConfig.js";
import { AppError } from "../errors.js";
import { isProviderId, PROVIDERS, type ProviderId } from "../providers/catalog.js";
import { IMAGE_PROVIDER_IDS, loadProvider, loadVideoProvider, servesImages, servesVideo, VIDEO_PROVIDER_IDS } from "../providers/registry.js";
import type { ImageFeature, ImageProvider, VideoProvider } from "../providers/types.js";

type Requested = { provider?: string; model?: string };

export async function routeImageRequest(feature: ImageFeature, requested: Requested, config: RuntimeConfig): Promise<{ provider: ImageProvider; model: string }> {
  const id = chooseProvider(feature, requested, config, servesImages, IMAGE_PROVIDER_IDS);
  if (!servesImages(id)) throw new Error("unreachable: chooseProvider checks the feature");
  const provider = await loadProvider(id);
  const providerDefault = provider.models.defaults[feature];
  if (!providerDefault) throw new AppError("invalid-argument", `feature: ${id} does not offer ${feature}`, "feature-not-offered");
  return { provider, model: chooseModel(id, feature, requested, config, providerDefault, provider.models.allowed) };
}

export async function routeVideoRequest(requested: Requested, config: RuntimeConfig): Promise<{ provider: VideoProvider; model: string }> {
  const id = chooseProvider("video", requested, config, servesVideo, VIDEO_PROVIDER_IDS());
  const provider = await loadVideoProvider(id);
  return { provider, model: chooseModel(id, "video", requested, config, provider.models.default, provider.models.allowed) };
}

function chooseProvider(feature: string, requested: Requested, config: RuntimeConfig, serves: (id: ProviderId) => boolean, ids: readonly string[]): ProviderId {
  if (config.killSwitch) {
    throw new AppError("unavailable", "Photo processing is paused by the administrators; try again later", "service-paused");
  }
  const id = requested.provider ?? defaultProvider(feature, config, serves);
  if (!isProviderId(id)) throw new AppError("invalid-argument", `provider: unknown provider; available: ${ids.join(", ")}`, "provider-unknown");
  if (!serves(id)) throw new AppError("invalid-argument", `feature: ${id} does not offer ${feature}; available: ${ids.join(", ")}`, "feature-not-offered");
  if (!config.enabledProviders.includes(id)) throw new AppError("failed-precondition", `provider: ${id} is disabled`, "provider-disabled");
  if (!PROVIDERS[id].isConfigured()) {
    throw new AppError("failed-precondition", `provider: ${id} is not configured on this server`, "provider-not-configured");
  }
  return id;
}

function chooseModel(id: ProviderId, feature: string, requested: Requested, config: RuntimeConfig, providerDefault: string, allowed: readonly string[]): string {
  const preferred = config.defaults[feature as keyof RuntimeConfig["defaults"]];
  const configured = preferred?.provider === id ? preferred.model : undefined;
  const model = requested.model ?? configured ?? providerDefault;
  const admitted = allowed.filter((m) => config.allowedModels[id]?.includes(m) ?? true);
  if (!admitted.includes(model)) {
    throw new AppError("invalid-argument", `model: not available for ${id}; available: ${admitted.join(", ")}`, "model-unknown");
  }
  return model;
}

/**
 * The admins' default for the feature, unless it is disabled, lacks credentials or does not serve
 * the feature: then the first usable one in `enabledProviders` serves instead. With none usable,
 * the preferred one is returned so the caller gets the precise refusal.
 */
function defaultProvider(feature: string, config: RuntimeConfig, serves: (id: ProviderId) => boolean): string {
  const usable = (id: string) => isProviderId(id) && serves(id) && config.enabledProviders.includes(id) && PROVIDERS[id].isConfigured();
  const preferred = config.defaults[feature as keyof RuntimeConfig["defaults"]]?.provider;
  if (preferred && usable(preferred)) return preferred;
  const fallback = config.enabledProviders.find(usable);
  if (fallback) return fallback;
  if (preferred) return preferred;
  throw new AppError("failed-precondition", `provider: no enabled provider offers ${feature}`, "provider-not-configured");
}
