/**
 * Chooses the provider and model for a request from what the client asked and what admins allow
 * in config/runtime. Refusals here happen before any face data leaves the function.
 */
import type { RuntimeConfig } from "../config/runtimeConfig.js";
import { AppError } from "../errors.js";
import { isKnownProvider, loadProvider, PROVIDER_IDS } from "../providers/registry.js";
import type { Feature, ImageProvider } from "../providers/types.js";

export async function routeRequest(
  feature: Feature,
  requested: { provider?: string; model?: string },
  config: RuntimeConfig,
): Promise<{ provider: ImageProvider; model: string }> {
  if (config.killSwitch) {
    throw new AppError("unavailable", "Photo processing is paused by the administrators; try again later", "service-paused");
  }
  const fallback = config.defaults[feature];
  const providerId = requested.provider ?? fallback?.provider;
  if (!providerId) throw new AppError("failed-precondition", `provider: no default provider is configured for ${feature}`, "provider-not-configured");
  if (!isKnownProvider(providerId)) {
    throw new AppError("invalid-argument", `provider: unknown provider; available: ${PROVIDER_IDS.join(", ")}`, "provider-unknown");
  }
  if (!config.enabledProviders.includes(providerId)) {
    throw new AppError("failed-precondition", `provider: ${providerId} is disabled`, "provider-disabled");
  }
  const provider = await loadProvider(providerId);
  const providerDefault = provider.models.defaults[feature];
  if (!providerDefault) {
    throw new AppError("invalid-argument", `feature: ${providerId} does not offer ${feature}`, "feature-not-offered");
  }
  const configured = fallback?.provider === providerId ? fallback.model : undefined;
  const model = requested.model ?? configured ?? providerDefault;
  if (!provider.models.allowed.includes(model)) {
    throw new AppError("invalid-argument", `model: unknown model for ${providerId}; available: ${provider.models.allowed.join(", ")}`, "model-unknown");
  }
  return { provider, model };
}
