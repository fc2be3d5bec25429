/** PicWish: background removal and enhancement, answered at once where it can, else polled. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const PICWISH_API_KEY = secret("PICWISH_API_KEY", "PicWish API key");

export const picwish = defineProvider({
  id: "picwish",
  name: "PicWish",
  secrets: [PICWISH_API_KEY],
  isConfigured: hasValues([PICWISH_API_KEY]),
  models: current(
    "shared/providers/cutout-pro.md §1 (PicWish operations, not versioned models)",
    "cutout-auto",
    "cutout-person",
    "cutout-face",
    "enhance-face",
    "enhance-photo",
    "enhance-pro",
    "colorize",
  ),
  retention: {
    retention: "Results are kept up to 1 hour; retention of inputs is unconfirmed.",
    source: ["cutout-pro.md"],
    deletionByApi: "not-applicable",
  },
  loadImage: async () => (await import("./index.js")).createPicWishProvider({ apiKey: PICWISH_API_KEY.value() }),
  docs: {
    auth: "`X-API-KEY` (`PICWISH_API_KEY`)",
    imageNotes: "sync where it can, else polled; result URL (kept 1 h by PicWish) fetched at once without the key",
  },
});
