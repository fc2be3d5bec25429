/** Google Veo on Vertex AI: image-to-video written straight into our bucket. */
import { current, defineProvider, vertexConfigured } from "../descriptor.js";

const MODEL_PAGES = "Vertex AI Veo model pages (shared/providers/google-veo.md §1, model table)";

export const veo = defineProvider({
  id: "veo",
  name: "Google Veo (Vertex AI)",
  // Vertex AI authenticates with the function's service account (ADC): no key, only a project.
  secrets: [],
  isConfigured: vertexConfigured("VEO_BASE_URL"),
  models: [
    ...current(MODEL_PAGES, "veo-3.1-generate-001", "veo-3.1-fast-generate-001"),
    { id: "veo-3.0-generate-001", shutdownOn: "2026-06-30", replacement: "veo-3.1-generate-001", source: MODEL_PAGES },
    { id: "veo-3.0-fast-generate-001", shutdownOn: "2026-06-30", replacement: "veo-3.1-fast-generate-001", source: MODEL_PAGES },
    { id: "veo-2.0-generate-001", shutdownOn: "2026-06-30", replacement: "veo-3.1-generate-001", source: MODEL_PAGES },
  ],
  retention: {
    retention:
      "Not used for training without permission; prompts may be logged for abuse monitoring (period unconfirmed). Videos are written straight into our own storage and deleted by us.",
    source: ["google-veo.md"],
    deletionByApi: "none",
  },
  limits: { maxConcurrent: 10, requestsPerMinute: 10, source: 'google-veo.md: "10 requests/min/project" (veo-3.0); concurrency unstated' },
  loadVideo: async () => (await import("./index.js")).createVeoProvider({}),
  docs: {
    auth: "the function's service account (ADC); no key",
    videoNotes:
      '`personGeneration: "allow_adult"`; **the Google Cloud project must be approved for person generation**, otherwise jobs end `failed-precondition` telling admins to ask Google. Output goes straight into our bucket (`storageUri`). JPEG/PNG. No cancel',
  },
});
