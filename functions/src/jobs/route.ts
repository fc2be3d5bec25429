/**
 * Chooses the provider and model for a request from what the client asked and what admins allow
 * in config/runtime. Refusals here happen before any face data leaves the function.
 */
import type { RuntimeConfig } from "../config/runtimeConfig.js";
import { AppError } from "../errors.js";
import * as logs from "../logging/logs.js";
import { isProviderId, PROVIDERS, type ProviderId } from "../providers/catalog.js";
import { assertModelNotRetired, isModelRetired, modelFact, modelRetiredError, standInFor } from "../providers/lifecycle.js";
import { IMAGE_PROVIDER_IDS, loadProvider, loadVideoProvider, servesImages, servesVideo, VIDEO_PROVIDER_IDS } from "../providers/registry.js";
import type { ImageProvider, VideoProvider } from "../providers/types.js";
import type { Feature, ImageFeature } from "../domain/features.js";

type Requested = { provider?: string; model?: string };

/** Where a request goes: the provider and model, and in order the providers that may stand in. */
export interface Route<P> {
  provider: P;
  model: string;
  /** Providers to try if this one is down (automatic fallback on, nothing named by the client). */
  fallbacks: ProviderId[];
}

/** `now` decides which models are past their shutdown day (providers/lifecycle.ts); tests pass their own. */
export async function routeImageRequest(feature: ImageFeature, requested: Requested, config: RuntimeConfig, now = new Date()): Promise<Route<ImageProvider>> {
  const id = chooseProvider(feature, requested, config, servesImages, IMAGE_PROVIDER_IDS);
  return { ...(await loadImageRoute(id, feature, requested, config, now)), fallbacks: fallbacksFor(id, feature, requested, config, servesImages) };
}

export async function routeVideoRequest(requested: Requested, config: RuntimeConfig, now = new Date()): Promise<Route<VideoProvider>> {
  const id = chooseProvider("video", requested, config, servesVideo, VIDEO_PROVIDER_IDS());
  return { ...(await loadVideoRoute(id, requested, config, now)), fallbacks: fallbacksFor(id, "video", requested, config, servesVideo) };
}

export async function loadImageRoute(
  id: ProviderId,
  feature: ImageFeature,
  requested: Requested,
  config: RuntimeConfig,
  now = new Date(),
): Promise<{ provider: ImageProvider; model: string }> {
  if (!servesImages(id)) throw new Error("unreachable: routing checks the feature");
  const provider = await loadProvider(id);
  const providerDefault = provider.models.defaults[feature];
  if (!providerDefault) throw new AppError("invalid-argument", `feature: ${id} does not offer ${feature}`, "feature-not-offered");
  return { provider, model: chooseModel(id, feature, requested, config, providerDefault, provider.models.allowed, now) };
}

export async function loadVideoRoute(
  id: ProviderId,
  requested: Requested,
  config: RuntimeConfig,
  now = new Date(),
): Promise<{ provider: VideoProvider; model: string }> {
  const provider = await loadVideoProvider(id);
  return { provider, model: chooseModel(id, "video", requested, config, provider.models.default, provider.models.allowed, now) };
}

function chooseProvider(
  feature: Feature,
  requested: Requested,
  config: RuntimeConfig,
  serves: (id: ProviderId) => boolean,
  ids: readonly string[],
): ProviderId {
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

/**
 * The client's model, else the admins' default for the feature, else the adapter's. A model the
 * client names past its shutdown day is refused (`model-retired`, naming the replacement); a
 * retired default gives way to the next admitted model, and admins are told in the log.
 */
function chooseModel(
  id: ProviderId,
  feature: Feature,
  requested: Requested,
  config: RuntimeConfig,
  providerDefault: string,
  allowed: readonly string[],
  now: Date,
): string {
  const preferred = config.defaults[feature];
  const configured = preferred?.provider === id ? preferred.model : undefined;
  const admitted = allowed.filter((m) => config.allowedModels[id]?.includes(m) ?? true);
  if (requested.model) assertModelNotRetired(id, requested.model, now);
  let model = requested.model ?? configured ?? providerDefault;
  if (!requested.model && isModelRetired(id, model, now)) {
    const standIn = standInFor(id, model, admitted, now);
    if (!standIn) throw modelRetiredError(id, modelFact(id, model)!);
    logs.defaultModelRetired(id, feature, model, standIn, configured ? "config" : "built-in");
    model = standIn;
  }
  if (!admitted.includes(model)) {
    const available = admitted.filter((m) => !isModelRetired(id, m, now));
    throw new AppError("invalid-argument", `model: not available for ${id}; available: ${available.join(", ")}`, "model-unknown");
  }
  return model;
}

/**
 * The admins' default for the feature, unless it is disabled, lacks credentials or does not serve
 * the feature: then the first usable one in the fallback order serves instead. With none usable,
 * the preferred one is returned so the caller gets the precise refusal.
 */
function defaultProvider(feature: Feature, config: RuntimeConfig, serves: (id: ProviderId) => boolean): string {
  const preferred = config.defaults[feature]?.provider;
  const [first] = usableInOrder(feature, config, serves);
  if (first) return first;
  if (preferred) return preferred;
  throw new AppError("failed-precondition", `provider: no enabled provider offers ${feature}`, "provider-not-configured");
}

/** The default, then `fallbackOrder` (or `enabledProviders`), keeping only providers that can serve now. */
function usableInOrder(feature: Feature, config: RuntimeConfig, serves: (id: ProviderId) => boolean): ProviderId[] {
  const usable = (id: string): id is ProviderId => isProviderId(id) && serves(id) && config.enabledProviders.includes(id) && PROVIDERS[id].isConfigured();
  const preferred = config.defaults[feature]?.provider;
  const order = [...(preferred ? [preferred] : []), ...(config.fallbackOrder[feature] ?? config.enabledProviders)];
  return [...new Set(order)].filter(usable);
}

/**
 * Automatic fallback is the admins' choice (`autoFallback`) and only for requests that left the
 * choice to them: a client that named a provider or model gets that one or an error.
 */
function fallbacksFor(chosen: ProviderId, feature: Feature, requested: Requested, config: RuntimeConfig, serves: (id: ProviderId) => boolean): ProviderId[] {
  if (!config.autoFallback || requested.provider || requested.model) return [];
  return usableInOrder(feature, config, serves).filter((id) => id !== chosen);
}
