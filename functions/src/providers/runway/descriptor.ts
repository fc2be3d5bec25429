/** Runway: image-to-video; each task is deleted at Runway once we have the clip. */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const RUNWAYML_API_SECRET = secret("RUNWAYML_API_SECRET", "Runway API key");

export const runway = defineProvider({
  id: "runway",
  name: "Runway",
  secrets: [RUNWAYML_API_SECRET],
  isConfigured: hasValues([RUNWAYML_API_SECRET]),
  models: current("@runwayml/sdk image_to_video types (shared/providers/runway.md §1)", "gen4.5", "gen4_turbo"),
  retention: {
    retention:
      "Retention period unconfirmed; deleting a task deletes its outputs under Runway's retention policy. We delete each task as soon as we have the video, and on deletion of your data.",
    source: ["runway.md"],
    deletionByApi: "cancel-and-delete",
  },
  limits: { maxConcurrent: 2, source: "runway.md: tiers allow 1–2 … 20 tasks at once (more are queued at Runway, THROTTLED); no RPM limit" },
  loadVideo: async () => (await import("./index.js")).createRunwayProvider({ apiKey: RUNWAYML_API_SECRET.value() }),
  docs: {
    auth: "`RUNWAYML_API_SECRET`",
    videoNotes:
      "`X-Runway-Version: 2024-11-06`; photo as a data URI (≤ 5 MB encoded); `SAFETY.*` failures are policy rejections; `DELETE /v1/tasks/{id}` cancels and deletes Runway's copy",
  },
});
