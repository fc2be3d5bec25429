/** OpenAI GPT Image: instruction edits through the `openai` SDK (loaded with the adapter only). */
import { current, defineProvider, hasValues, secret } from "../descriptor.js";

const OPENAI_API_KEY = secret("OPENAI_API_KEY", "OpenAI API key");
const DEPRECATIONS = "https://platform.openai.com/docs/deprecations (shared/providers/openai-gpt-image.md §1, Lifecycle)";

export const openai = defineProvider({
  id: "openai",
  name: "OpenAI GPT Image",
  secrets: [OPENAI_API_KEY],
  isConfigured: hasValues([OPENAI_API_KEY]),
  models: [
    ...current(
      "npm openai 7.59.0 ImageModel (shared/providers/openai-gpt-image.md §1)",
      "gpt-image-2.5-sunburst",
      "gpt-image-2.5-sunburst-2026-09-08",
      "gpt-image-2.5-flare",
      "gpt-image-2.5-flare-2026-09-08",
      "gpt-image-2.6-sunburst",
      "gpt-image-2.6-flare",
      "gpt-image-2",
    ),
    { id: "gpt-image-1.5", shutdownOn: "2026-12-01", replacement: "gpt-image-2.6-sunburst", source: DEPRECATIONS },
    { id: "gpt-image-1.5-mini", shutdownOn: "2026-12-01", replacement: "gpt-image-2.6-flare", source: DEPRECATIONS },
    { id: "chatgpt-image-latest", shutdownOn: "2026-12-01", replacement: "gpt-image-2.6-sunburst", source: DEPRECATIONS },
    {
      id: "gpt-image-1",
      shutdownOn: "2026-10-23",
      replacement: "gpt-image-2.5-sunburst",
      source: "npm openai 7.59.0 ImageModel doc comment (shared/providers/openai-gpt-image.md §1, Lifecycle)",
    },
  ],
  retention: {
    retention:
      "Abuse-monitoring logs (which may hold prompts, responses and derived metadata) are kept up to 30 days by default, longer where the law requires; API data is not used for training by default.",
    source: ["openai-gpt-image.md"],
    deletionByApi: "not-applicable",
  },
  loadImage: async () => (await import("./index.js")).createOpenAIProvider({ apiKey: OPENAI_API_KEY.value() }),
  docs: {
    auth: "Bearer (`OPENAI_API_KEY`)",
    imageNotes:
      'through the `openai` SDK (no SDK retries for the paid call): multipart `images.edit`, `b64_json` result inline, no `input_fidelity` (high on every model we use); cutout = `background: "transparent"` + PNG on the models documented for it. JPEG/PNG/WebP input',
  },
});
