/** Cutout.Pro: synchronous background removal and enhancement. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const CUTOUT_PRO_API_KEY = secret("CUTOUT_PRO_API_KEY", "Cutout.Pro API key");

export const cutoutpro = defineProvider({
  id: "cutoutpro",
  name: "Cutout.Pro",
  secrets: [CUTOUT_PRO_API_KEY],
  isConfigured: hasValues([CUTOUT_PRO_API_KEY]),
  models: current(
    "shared/providers/cutout-pro.md §1 (operations, not versioned models)",
    "cutout-general",
    "cutout-portrait",
    "cutout-face",
    "enhance-photo",
    "colorize",
  ),
  retention: {
    retention:
      "Its general API retention statement could not be confirmed; one API page says an input's temporary URL is kept for logging only and deleted after a few moments.",
    source: ["cutout-pro.md"],
    deletionByApi: "not-applicable",
  },
  loadImage: async () => (await import("./index.js")).createCutoutProProvider({ apiKey: CUTOUT_PRO_API_KEY.value() }),
  docs: { auth: "`APIKEY` (`CUTOUT_PRO_API_KEY`)", imageNotes: "sync multipart upload, base64 result inline, PNG for cutouts" },
});
