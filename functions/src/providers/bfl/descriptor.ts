/** Black Forest Labs FLUX: async instruction edits. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const BFL_API_KEY = secret("BFL_API_KEY", "Black Forest Labs API key");

export const bfl = defineProvider({
  id: "bfl",
  name: "Black Forest Labs FLUX",
  secrets: [BFL_API_KEY],
  isConfigured: hasValues([BFL_API_KEY]),
  models: current("shared/providers/bfl-kontext.md §1", "flux-2-pro", "flux-2-max", "flux-2-flex", "flux-kontext-pro", "flux-kontext-max"),
  retention: {
    retention: "No retention period stated in its API documentation (unconfirmed); results are reachable only through a 10-minute signed URL.",
    source: ["bfl-kontext.md"],
    deletionByApi: "not-applicable",
  },
  limits: {
    maxConcurrent: 24,
    requestsPerMinute: 60,
    source: "bfl-kontext.md §5: 429 above 24 in-flight tasks (6 for flux-kontext-max: set 6 if you use it); no request rate is stated",
  },
  loadImage: async () => (await import("./index.js")).createBflProvider({ apiKey: BFL_API_KEY.value() }),
  docs: {
    auth: "`x-key` (`BFL_API_KEY`)",
    imageNotes:
      "async: submit, then poll the returned `polling_url` (only on `*.bfl.ai` or the configured host); result URL valid 10 min, fetched at once without the key. `BFL_BASE_URL=https://api.eu.bfl.ai` keeps processing in the EU",
  },
});
