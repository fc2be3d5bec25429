/**
 * Privacy rights (ARCHITECTURE §3): know (exportMyData), delete (deleteMyData) and opt out
 * (setPrivacyChoices). Thin wrappers over privacy/; each request is recorded (privacy/requestRecords.ts).
 */
import { PROVIDER_DELETION_SECRETS } from "../../providers/retention.js";
import { SHAPES } from "../shapes.js";
import { userCallable } from "./callable.js";

export const exportMyData = userCallable("exportMyData", SHAPES.exportMyData, async (uid, data) =>
  (await import("../../privacy/exportData.js")).exportMyData(uid, data),
);

// Deleting provider copies of video tasks needs those providers' keys, and only those.
export const deleteMyData = userCallable("deleteMyData", { ...SHAPES.deleteMyData, secrets: PROVIDER_DELETION_SECRETS }, async (uid, data) =>
  (await import("../../privacy/deleteData.js")).deleteMyData(uid, data),
);

export const setPrivacyChoices = userCallable("setPrivacyChoices", SHAPES.light, async (uid, data, request) =>
  (await import("../../privacy/choices.js")).setPrivacyChoices(uid, data, request.rawRequest?.headers),
);
