/**
 * Chooses the provider and model for a request from what the client asked and what admins allow
 * in config/runtime. Refusals here happen before any face data leaves the function.
 */
import type { RuntimeConfig } from "../config/runtimeConfig.js";
import { AppError } from "../errors.js";
import { isProviderId, PROVIDER_IDS, PROVIDERS } from "../providers/catalog.js";
import { loadProvider } from "../providers/registry.js";
import type { Feature, ImageProvider } from "../providers/types.js";

export async function routeRequest(
  feature: Feature,
  requested: { provider?: string; model?: string },
  config: RuntimeConfig,
): Promise<{ provider: ImageProvider; model: string }> {
  if (config.killSwitch) {
    throw new AppError("unavailable", "Photo processing is paused by the administrators; try again later", "service-paused");
  }
  const providerId = requested.provider ?? defaultProvider(feature, config);
  if (!isProviderId(providerId)) {
    throw new AppError("invalid-argument", `provider: unknown provider; available: ${PROVIDER_IDS.join(", ")}`, "provider-unknown");
  }
  if (!config.enabledProviders.includes(providerId)) {
    throw new AppError("failed-precondition", `provider: ${providerId} is disabled`, "provider-disabled");
  }
  if (!PROVIDERS[providerId].isConfigured()) {
    throw new AppError("failed-precondition", `provider: ${providerId} is not configured on this server`, "provider-not-configured");
  }
  const provider = await loadProvider(providerId);
  const providerDefault = provider.models.defaults[feature];
  if (!providerDefault) {
    throw new AppError("invalid-argument", `feature: ${providerId} does not offer ${feature}`, "feature-not-offered");
  }
  const configured = config.defaults[feature]?.provider === providerId ? config.defaults[feature]?.model : undefined;
  const model = requested.model ?? configured ?? providerDefault;
  const admitted = provider.models.allowed.filter((m) => config.allowedModels[providerId]?.includes(m) ?? true);
  if (!admitted.includes(model)) {
    throw new AppError("invalid-argument", `model: not available for ${providerId}; available: ${admitted.join(", ")}`, "model-unknown");
  }
  return { provider, model };
}

/**
 * The admins' default for the feature, unless it is disabled or lacks credentials: such a provider
 * is never a default, and the first usable one in `enabledProviders` serves instead. With none
 * usable, the preferred one is returned so the caller gets the precise refusal.
 */
function defaultProvider(feature: Feature, config: RuntimeConfig): string {
  const usable = (id: string) => isProviderId(id) && config.enabledProviders.includes(id) && PROVIDERS[id].isConfigured();
  const preferred = config.defaults[feature]?.provider;
  if (preferred && usable(preferred)) return preferred;
  const fallback = config.enabledProviders.find(usable);
  if (fallback) return fallback;
  if (preferred) return preferred;
  throw new AppError("failed-precondition", `provider: no enabled provider offers ${feature}`, "provider-not-configured");
}
