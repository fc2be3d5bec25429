/** MiniMax: image-01 restyles and Hailuo image-to-video, one key and one client. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const MINIMAX_API_KEY = secret("MINIMAX_API_KEY", "MiniMax API key");

export const minimax = defineProvider({
  id: "minimax",
  name: "MiniMax",
  secrets: [MINIMAX_API_KEY],
  isConfigured: hasValues([MINIMAX_API_KEY]),
  models: [
    ...current("shared/providers/minimax-image.md §1", "image-01", "image-01-live"),
    ...current("shared/providers/minimax-hailuo.md §1", "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"),
  ],
  retention: {
    retention: "No retention statement found for inputs or results (unconfirmed); result URLs expire after 24 hours.",
    source: ["minimax-image.md", "minimax-hailuo.md"],
    deletionByApi: "none",
  },
  limits: {
    maxConcurrent: 5,
    requestsPerMinute: 20,
    source:
      'minimax-hailuo.md: "5 RPM for video" (third-party, unconfirmed); image limits unstated. One number serves both, so images are not held to the video figure: set 5 if video dominates',
  },
  loadImage: async () => (await import("./index.js")).createMinimaxProvider({ apiKey: MINIMAX_API_KEY.value() }),
  loadVideo: async () => (await import("./video.js")).createMinimaxVideoProvider({ apiKey: MINIMAX_API_KEY.value() }),
  docs: {
    auth: "Bearer (`MINIMAX_API_KEY`)",
    imageNotes:
      "draws a new picture of the same face from `subject_reference`, so it serves restyles only; errors come in `base_resp` on HTTP 200. `MINIMAX_BASE_URL=https://api.minimaxi.com` for China",
    videoNotes: "Hailuo; photo as a data URL; the result comes through `files/retrieve`; no cancel",
  },
});
