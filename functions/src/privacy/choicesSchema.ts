/**
 * `privacy/{uid}`: the user's choices, readable by the user (firestore.rules) so the app can turn
 * its own analytics SDKs off, written only by setPrivacyChoices (and by a GPC signal on any entry
 * point). Strict, like the job document: nothing else may be stored there.
 */
import { z } from "zod";

const timestamp = z.custom<FirebaseFirestore.Timestamp>(
  (v) => typeof v === "object" && v !== null && typeof (v as { toMillis?: unknown }).toMillis === "function",
  "a Firestore Timestamp",
);

export const privacyChoicesDocSchema = z.strictObject({
  optOutOfSale: z.boolean(),
  optOutOfSharing: z.boolean(),
  /** The last request that set anything carried a Global Privacy Control signal (header or the app's flag); see nextChoices. */
  gpc: z.boolean(),
  updatedAt: timestamp,
});
export type PrivacyChoicesDoc = z.infer<typeof privacyChoicesDocSchema>;
export type PrivacyChoices = Omit<PrivacyChoicesDoc, "updatedAt">;

/** `setPrivacyChoices` request: each field optional; `{}` (or no data) reads the stored choices back. */
export const setPrivacyChoicesRequestSchema = z
  .strictObject({
    optOutOfSale: z.boolean().optional(),
    optOutOfSharing: z.boolean().optional(),
    gpc: z.boolean().optional(),
  })
  .nullish()
  .transform((v) => v ?? {});
export type SetPrivacyChoicesRequest = z.infer<typeof setPrivacyChoicesRequestSchema>;

/**
 * The new choices: a GPC signal (header or flag) opts out of both, whatever else the request says.
 * `gpc` stores the truth about the last request that stated anything (a choice, the flag, or the
 * header): a request that sets a choice without a signal stores `gpc: false`. Policy: an explicit
 * opt-in sent without a signal is honoured (CCPA regulations §7025(c)(3) let the user confirm a
 * business-specific setting over the signal); the next request that carries the signal opts out
 * again. Only `{}` without a signal (a read) keeps the stored flag.
 */
export function nextChoices(current: PrivacyChoices | undefined, request: SetPrivacyChoicesRequest, gpcHeader: boolean): PrivacyChoices {
  const gpc = gpcHeader || request.gpc === true;
  const statesSomething = gpc || request.gpc !== undefined || request.optOutOfSale !== undefined || request.optOutOfSharing !== undefined;
  return {
    optOutOfSale: gpc || (request.optOutOfSale ?? current?.optOutOfSale ?? false),
    optOutOfSharing: gpc || (request.optOutOfSharing ?? current?.optOutOfSharing ?? false),
    gpc: statesSomething ? gpc : (current?.gpc ?? false),
  };
}

/**
 * The request type for the record: opt-out if the request opts out of anything (or signals GPC),
 * opt-in if it only withdraws opt-outs; none for a request that only reads or reports `gpc: false`.
 */
export function requestTypeOf(request: SetPrivacyChoicesRequest, gpcHeader: boolean): "opt-out" | "opt-in" | undefined {
  if (gpcHeader || request.gpc === true || request.optOutOfSale === true || request.optOutOfSharing === true) return "opt-out";
  if (request.optOutOfSale === false || request.optOutOfSharing === false) return "opt-in";
  return undefined;
}

export const sameChoices = (a: PrivacyChoices | undefined, b: PrivacyChoices) =>
  a !== undefined && a.optOutOfSale === b.optOutOfSale && a.optOutOfSharing === b.optOutOfSharing && a.gpc === b.gpc;
