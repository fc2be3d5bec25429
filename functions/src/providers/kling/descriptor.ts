/** Kling AI: subject-reference restyles and image-to-video, one key pair and one client. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const KLING_ACCESS_KEY = secret("KLING_ACCESS_KEY", "Kling access key");
const KLING_SECRET_KEY = secret("KLING_SECRET_KEY", "Kling secret key");
const keys = () => ({ accessKey: KLING_ACCESS_KEY.value(), secretKey: KLING_SECRET_KEY.value() });

export const kling = defineProvider({
  id: "kling",
  name: "Kling AI",
  secrets: [KLING_ACCESS_KEY, KLING_SECRET_KEY],
  isConfigured: hasValues([KLING_ACCESS_KEY, KLING_SECRET_KEY]),
  models: [
    ...current("shared/providers/kling-image.md §1", "kling-v1-5"),
    ...current("shared/providers/kling-video.md §1", "kling-v3", "kling-v2-6", "kling-v2-5-turbo"),
  ],
  retention: {
    retention: "Generated images and videos are deleted after 30 days; retention of inputs is unconfirmed.",
    source: ["kling-image.md", "kling-video.md"],
    deletionByApi: "none",
  },
  limits: {
    maxConcurrent: 5,
    source:
      'kling-video.md: a task holds one slot of the resource pack until it ends; "no QPS limit". The pack\'s size is per account, so a small one is assumed',
  },
  loadImage: async () => (await import("./index.js")).createKlingProvider(keys()),
  loadVideo: async () => (await import("./video.js")).createKlingVideoProvider(keys()),
  docs: {
    auth: "JWT HS256 from `KLING_ACCESS_KEY` + `KLING_SECRET_KEY`, signed per call",
    imageNotes:
      'async; raw base64 with `image_reference` subject (or `options.imageReference: "face"`); the job id is Kling\'s `external_task_id`, so a retried submit cannot start a second task. Sides ≥ 300 px, JPEG/PNG',
    videoNotes: "raw base64; the job id is `external_task_id`; results purged by Kling after 30 days; no cancel",
  },
});
