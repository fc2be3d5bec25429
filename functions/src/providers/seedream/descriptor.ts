/** ByteDance Seedream on Volcengine Ark (or BytePlus ModelArk): synchronous image edits. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

/** One Ark key serves both Seedream (images) and Seedance (video, which imports it from here). */
export const ARK_API_KEY = secret("ARK_API_KEY", "Volcengine Ark / BytePlus ModelArk API key");

export const seedream = defineProvider({
  id: "seedream",
  name: "ByteDance Seedream",
  secrets: [ARK_API_KEY],
  isConfigured: hasValues([ARK_API_KEY]),
  // Volcengine ids, the newest Seedream first (the default); on BytePlus the same models drop the
  // `doubao-` prefix (seedream/api.ts).
  models: current(
    "shared/providers/bytedance-seedream.md §1",
    "doubao-seedream-5-0-260128",
    "doubao-seedream-5-0-lite-260128",
    "doubao-seedream-5-0-pro-260628",
    "doubao-seedream-4-5-251128",
    "doubao-seedream-4-0-250828",
    "doubao-seededit-3-0-i2i-250628",
  ),
  retention: {
    retention: "No retention statement found (unconfirmed); result URLs live 24 hours.",
    source: ["bytedance-seedream.md"],
    deletionByApi: "not-applicable",
  },
  loadImage: async () => (await import("./index.js")).createSeedreamProvider({ apiKey: ARK_API_KEY.value() }),
  docs: {
    auth: "Bearer (`ARK_API_KEY`)",
    imageNotes:
      "sync `POST /images/generations`, photo as a data URL (JPEG/PNG/WebP ≤ 10 MB; SeedEdit 3.0 JPEG/PNG only), `b64_json` result, no watermark. Volcengine Ark (Beijing) by default; `SEEDREAM_BASE_URL=https://ark.ap-southeast.bytepluses.com/api/v3` selects BytePlus ModelArk (ids without `doubao-`)",
  },
});
