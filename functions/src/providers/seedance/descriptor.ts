/** ByteDance Seedance on Ark: image-to-video with Seedream's key; tasks are deleted once we have the clip. */
import { current, defineProvider, hasValues } from "../descriptor.js";
import { ARK_API_KEY } from "../seedream/descriptor.js";

export const seedance = defineProvider({
  id: "seedance",
  name: "ByteDance Seedance",
  secrets: [ARK_API_KEY],
  isConfigured: hasValues([ARK_API_KEY]),
  models: current(
    "shared/providers/bytedance-seedance.md §1",
    "doubao-seedance-1-5-pro-251215",
    "doubao-seedance-1-0-pro-250528",
    "doubao-seedance-1-0-pro-fast-251015",
    "doubao-seedance-1-0-lite-i2v-250428",
    "doubao-seedance-2-0-260128",
    "doubao-seedance-2-0-fast-260128",
  ),
  retention: {
    retention:
      "Output URLs live 24 hours; task records can be queried for a limited time (unconfirmed). We delete each task as soon as we have the video, and on deletion of your data.",
    source: ["bytedance-seedance.md"],
    deletionByApi: "cancel-and-delete",
  },
  loadVideo: async () => (await import("./index.js")).createSeedanceProvider({ apiKey: ARK_API_KEY.value() }),
  docs: {
    auth: "Bearer (`ARK_API_KEY`, Seedream's)",
    videoNotes:
      "**Seedance 2.0 rejects photos of real faces** (`…PrivacyInformation`): such jobs end as a policy rejection telling admins to pick a 1.x model or another provider; `DELETE` cancels a queued task and deletes a finished one",
  },
});
