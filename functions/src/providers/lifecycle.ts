/**
 * Model lifecycle: which models the providers have shut down, as of a given day. Pure (the data is in
 * the descriptors' `models`); every function takes `now`, so nothing here depends on the real calendar.
 */
import { AppError } from "../errors.js";
import { PROVIDERS, type ProviderId } from "./catalog.js";
import type { ModelFact } from "./descriptor.js";

const DAY_MS = 86_400_000;
const startOfDay = (isoDay: string) => Date.parse(`${isoDay}T00:00:00Z`);

export const modelFact = (provider: ProviderId, model: string): ModelFact | undefined => PROVIDERS[provider].models.find((m) => m.id === model);

/** Shut down from the first moment of its `shutdownOn` day (UTC). */
export const isRetired = (fact: ModelFact | undefined, now: Date): boolean => fact?.shutdownOn !== undefined && now.getTime() >= startOfDay(fact.shutdownOn);

export const isModelRetired = (provider: ProviderId, model: string, now: Date): boolean => isRetired(modelFact(provider, model), now);

/** Whole days from `now` until the shutdown day starts (negative once past); undefined without a date. */
export const daysUntilShutdown = (fact: ModelFact, now: Date): number | undefined =>
  fact.shutdownOn === undefined ? undefined : Math.ceil((startOfDay(fact.shutdownOn) - now.getTime()) / DAY_MS);

/** The refusal for a client that names a retired model: it says when, by whom, and what to use instead. */
export function modelRetiredError(provider: ProviderId, fact: ModelFact): AppError {
  const instead = fact.replacement ? `; use ${fact.replacement}` : "";
  return new AppError("invalid-argument", `model: ${fact.id} was shut down by ${PROVIDERS[provider].name} on ${fact.shutdownOn}${instead}`, "model-retired");
}

/** Throws `model-retired` when the model is past its shutdown day. */
export function assertModelNotRetired(provider: ProviderId, model: string, now: Date): void {
  const fact = modelFact(provider, model);
  if (fact && isRetired(fact, now)) throw modelRetiredError(provider, fact);
}

/**
 * What serves instead of a retired default: its documented replacement when that is admitted and
 * current, otherwise the first admitted model that is not retired.
 */
export function standInFor(provider: ProviderId, retired: string, admitted: readonly string[], now: Date): string | undefined {
  const current = admitted.filter((m) => !isModelRetired(provider, m, now));
  const replacement = modelFact(provider, retired)?.replacement;
  return replacement && current.includes(replacement) ? replacement : current[0];
}
