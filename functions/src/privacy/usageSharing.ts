/**
 * The one gate for sending usage data about a user to a third party: analytics, advertising,
 * attribution, data brokers — what the CCPA/CPRA calls selling or sharing. The backend sends none
 * today: `USAGE_DATA_RECIPIENTS` is empty, no analytics or telemetry SDK is a dependency, and only
 * the provider adapters make outbound calls (usageSharing.test.ts fails otherwise). Anything that
 * ever sends usage data must name its recipient here and ask `mayShareUsageData` first.
 *
 * Not governed by this gate: the photo sent to the AI provider the user picked, to do what the user
 * asked (a service provider's processing, limited to the providers of providers/catalog.ts).
 */
import type { PrivacyChoices } from "./choicesSchema.js";

/** Third parties that receive usage data about users. None. */
export const USAGE_DATA_RECIPIENTS: readonly string[] = [];

/**
 * Whether usage data about a user may go to `recipients`. Never for a user who opted out of sale or
 * of sharing or whose device sent Global Privacy Control; never without stored choices (we do not
 * know the user's wishes, or their age); never while there is no recipient.
 */
export function mayShareUsageData(choices: PrivacyChoices | undefined, recipients: readonly string[] = USAGE_DATA_RECIPIENTS): boolean {
  if (recipients.length === 0 || !choices) return false;
  return !choices.optOutOfSale && !choices.optOutOfSharing && !choices.gpc;
}
