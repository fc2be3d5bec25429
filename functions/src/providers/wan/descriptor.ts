/** Alibaba Wan on Model Studio (DashScope): image edits and image-to-video, one key and one client. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const DASHSCOPE_API_KEY = secret("DASHSCOPE_API_KEY", "Alibaba Cloud Model Studio (DashScope) API key");

export const wan = defineProvider({
  id: "wan",
  name: "Alibaba Wan",
  secrets: [DASHSCOPE_API_KEY],
  isConfigured: hasValues([DASHSCOPE_API_KEY]),
  models: [
    ...current("shared/providers/alibaba-wan-image.md §1 (a preview; retirement date unconfirmed)", "wan2.5-i2i-preview"),
    ...current("shared/providers/alibaba-wan-video.md §1", "wan2.6-i2v", "wan2.6-i2v-flash", "wan2.5-i2v-preview"),
  ],
  retention: {
    retention:
      "Task data and results are deleted after 24 hours and stored in the selected region; retention of inputs is unconfirmed. A video task not yet started can be cancelled.",
    source: ["alibaba-wan-image.md", "alibaba-wan-video.md"],
    deletionByApi: "cancel-pending",
  },
  // No `limits`: alibaba-wan-*.md says limits are per model per account but states no values (20 QPS
  // for task queries), so video gets CONSERVATIVE and image calls none (config/providerLimits.ts).
  loadImage: async () => (await import("./index.js")).createWanProvider({ apiKey: DASHSCOPE_API_KEY.value() }),
  loadVideo: async () => (await import("./video.js")).createWanVideoProvider({ apiKey: DASHSCOPE_API_KEY.value() }),
  docs: {
    auth: "Bearer + `X-DashScope-Async` (`DASHSCOPE_API_KEY`)",
    imageNotes:
      "async task, polled every 5–10 s; a task still PENDING at the deadline is cancelled. Singapore (`dashscope-intl`) by default, `WAN_BASE_URL=https://dashscope.aliyuncs.com` for Beijing. Sides 384–5000 px",
    videoNotes:
      "photo as a data URI (≤ 10 MB, 360–2000 px); a PENDING task is cancelled at the deadline. The 2.6 models are asked for a silent clip (`audio: false`); `wan2.5-i2v-preview` documents no such switch, so its clips may carry a generated soundtrack",
  },
});
