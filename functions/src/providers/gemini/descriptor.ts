/** Google Gemini image models on Vertex AI, through `@google/genai` (loaded with the adapter only). */
import { current, defineProvider, vertexConfigured } from "../descriptor.js";

export const gemini = defineProvider({
  id: "gemini",
  name: "Google Gemini (Vertex AI)",
  // Vertex AI authenticates with the function's service account (ADC): no key, only a project.
  secrets: [],
  isConfigured: vertexConfigured("GEMINI_BASE_URL"),
  models: current("Vertex AI model pages (shared/providers/google-gemini-image.md §1)", "gemini-3-pro-image", "gemini-3.1-flash-image"),
  retention: {
    retention:
      "Inputs may be cached up to 24 hours in the serving data centre; if abuse classifiers flag a request, prompts may be logged up to 90 days; not used for training without permission.",
    source: ["google-gemini-image.md"],
    deletionByApi: "not-applicable",
  },
  loadImage: async () => (await import("./index.js")).createGeminiProvider({}),
  docs: {
    auth: "the function's service account (ADC); no key",
    imageNotes:
      'through `@google/genai` in Vertex mode (`vertexai: true, project, location`), `generateContent` with the photo as `inlineData` (≤ 7 MB) and `responseModalities: ["IMAGE"]`; safety `finishReason`s (including `MODEL_ARMOR`) and `promptFeedback` blocks on HTTP 200 are policy rejections; `CONTINUATION` (token limit hit, automatic continuation off) is transient (`unavailable`). Location `global` (`GOOGLE_CLOUD_LOCATION`), the only one these models run in',
  },
});
