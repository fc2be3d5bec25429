/**
 * Every provider face data may go to (the privacy policy's list) with the credentials it needs.
 * Tiny on purpose: the triggers import it to bind secrets, so it must not load any adapter code.
 * A provider whose credentials are absent is unavailable and never chosen as a default.
 */
import { defineSecret } from "firebase-functions/params";

type Secret = ReturnType<typeof defineSecret>;

export interface ProviderEntry {
  id: string;
  /** Shown to users in messages and to admins in docs/PROVIDERS.md. */
  name: string;
  secrets: Secret[];
  /** Credentials present (or, for Vertex AI, a Google Cloud project to bill). */
  isConfigured(): boolean;
  /** Every model id the adapters accept (image and video), and every retired one still asked for. */
  models: readonly ModelFact[];
}

/**
 * One model's documented lifecycle. Dates are UTC days (YYYY-MM-DD); a model is refused from the
 * start of its `shutdownOn` day (lifecycle.ts). `source` says where the id and dates come from: a
 * URL or a shared/providers file and section.
 */
export interface ModelFact {
  id: string;
  deprecatedOn?: string;
  shutdownOn?: string;
  /** The model to use instead, named in the refusal and chosen for a retired default. */
  replacement?: string;
  source: string;
}

const secret = (name: string, description: string) => defineSecret(name, { description });
const hasValues = (secrets: Secret[]) => () => secrets.every((s) => Boolean(process.env[s.name]));

/**
 * Vertex AI needs a project; it counts as configured on Cloud Functions, and in the emulator or
 * tests only when its base URL points at a fake, so a developer's own Google credentials are never used.
 */
function vertexConfigured(baseUrlEnv: string) {
  return () => {
    const project = process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT;
    return Boolean(project && (process.env[baseUrlEnv] || (process.env.K_SERVICE && process.env.FUNCTIONS_EMULATOR !== "true")));
  };
}

// One Ark key serves both Seedream (images) and Seedance (video).
const ARK_API_KEY = secret("ARK_API_KEY", "Volcengine Ark / BytePlus ModelArk API key");

function entry(id: string, name: string, secrets: Secret[], models: ModelFact[], isConfigured = hasValues(secrets)): ProviderEntry {
  return { id, name, secrets, isConfigured, models };
}

/** Models documented in `source` with no announced deprecation or shutdown. */
const current = (source: string, ...ids: string[]): ModelFact[] => ids.map((id) => ({ id, source }));

const OPENAI_DEPRECATIONS = "https://platform.openai.com/docs/deprecations (shared/providers/openai-gpt-image.md §1, Lifecycle)";
const VEO_MODEL_PAGES = "Vertex AI Veo model pages (shared/providers/google-veo.md §1, model table)";

export const PROVIDERS = {
  local: entry("local", "Photo Fixer (on our servers)", [], current("functions/src/providers/local (our own)", "local-effects-1", "local-cutout-1", "local-kenburns-1"), () => true),
  openai: entry("openai", "OpenAI GPT Image", [secret("OPENAI_API_KEY", "OpenAI API key")], [
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
    { id: "gpt-image-1.5", shutdownOn: "2026-12-01", replacement: "gpt-image-2.6-sunburst", source: OPENAI_DEPRECATIONS },
    { id: "gpt-image-1.5-mini", shutdownOn: "2026-12-01", replacement: "gpt-image-2.6-flare", source: OPENAI_DEPRECATIONS },
    { id: "chatgpt-image-latest", shutdownOn: "2026-12-01", replacement: "gpt-image-2.6-sunburst", source: OPENAI_DEPRECATIONS },
    { id: "gpt-image-1", shutdownOn: "2026-10-23", replacement: "gpt-image-2.5-sunburst", source: "npm openai 7.59.0 ImageModel doc comment (shared/providers/openai-gpt-image.md §1, Lifecycle)" },
  ]),
  // Vertex AI authenticates with the function's service account (ADC): no key, only a project.
  gemini: entry("gemini", "Google Gemini (Vertex AI)", [], current("Vertex AI model pages (shared/providers/google-gemini-image.md §1)", "gemini-3-pro-image", "gemini-3.1-flash-image"), vertexConfigured("GEMINI_BASE_URL")),
  bfl: entry("bfl", "Black Forest Labs FLUX", [secret("BFL_API_KEY", "Black Forest Labs API key")], current("shared/providers/bfl-kontext.md §1", "flux-2-pro", "flux-2-max", "flux-2-flex", "flux-kontext-pro", "flux-kontext-max")),
  // Volcengine ids; on BytePlus the same models drop the `doubao-` prefix (seedream/api.ts).
  seedream: entry("seedream", "ByteDance Seedream", [ARK_API_KEY], current(
    "shared/providers/bytedance-seedream.md §1",
    "doubao-seedream-5-0-260128",
    "doubao-seedream-5-0-lite-260128",
    "doubao-seedream-5-0-pro-260628",
    "doubao-seedream-4-5-251128",
    "doubao-seedream-4-0-250828",
    "doubao-seededit-3-0-i2i-250628",
  )),
  wan: entry("wan", "Alibaba Wan", [secret("DASHSCOPE_API_KEY", "Alibaba Cloud Model Studio (DashScope) API key")], [
    ...current("shared/providers/alibaba-wan-image.md §1 (a preview; retirement date unconfirmed)", "wan2.5-i2i-preview"),
    ...current("shared/providers/alibaba-wan-video.md §1", "wan2.6-i2v", "wan2.6-i2v-flash", "wan2.5-i2v-preview"),
  ]),
  minimax: entry("minimax", "MiniMax", [secret("MINIMAX_API_KEY", "MiniMax API key")], [
    ...current("shared/providers/minimax-image.md §1", "image-01", "image-01-live"),
    ...current("shared/providers/minimax-hailuo.md §1", "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"),
  ]),
  kling: entry("kling", "Kling AI", [secret("KLING_ACCESS_KEY", "Kling access key"), secret("KLING_SECRET_KEY", "Kling secret key")], [
    ...current("shared/providers/kling-image.md §1", "kling-v1-5"),
    ...current("shared/providers/kling-video.md §1", "kling-v3", "kling-v2-6", "kling-v2-5-turbo"),
  ]),
  cutoutpro: entry("cutoutpro", "Cutout.Pro", [secret("CUTOUT_PRO_API_KEY", "Cutout.Pro API key")], current("shared/providers/cutout-pro.md §1 (operations, not versioned models)", "cutout-general", "cutout-portrait", "cutout-face", "enhance-photo", "colorize")),
  picwish: entry("picwish", "PicWish", [secret("PICWISH_API_KEY", "PicWish API key")], current("shared/providers/cutout-pro.md §1 (PicWish operations, not versioned models)", "cutout-auto", "cutout-person", "cutout-face", "enhance-face", "enhance-photo", "enhance-pro", "colorize")),
  // Video-only providers (Kling, MiniMax and Wan serve both, with the same keys).
  veo: entry("veo", "Google Veo (Vertex AI)", [], [
    ...current(VEO_MODEL_PAGES, "veo-3.1-generate-001", "veo-3.1-fast-generate-001"),
    { id: "veo-3.0-generate-001", shutdownOn: "2026-06-30", replacement: "veo-3.1-generate-001", source: VEO_MODEL_PAGES },
    { id: "veo-3.0-fast-generate-001", shutdownOn: "2026-06-30", replacement: "veo-3.1-fast-generate-001", source: VEO_MODEL_PAGES },
    { id: "veo-2.0-generate-001", shutdownOn: "2026-06-30", replacement: "veo-3.1-generate-001", source: VEO_MODEL_PAGES },
  ], vertexConfigured("VEO_BASE_URL")),
  runway: entry("runway", "Runway", [secret("RUNWAYML_API_SECRET", "Runway API key")], current("@runwayml/sdk image_to_video types (shared/providers/runway.md §1)", "gen4.5", "gen4_turbo")),
  seedance: entry("seedance", "ByteDance Seedance", [ARK_API_KEY], current(
    "shared/providers/bytedance-seedance.md §1",
    "doubao-seedance-1-5-pro-251215",
    "doubao-seedance-1-0-pro-250528",
    "doubao-seedance-1-0-pro-fast-251015",
    "doubao-seedance-1-0-lite-i2v-250428",
    "doubao-seedance-2-0-260128",
    "doubao-seedance-2-0-fast-260128",
  )),
} satisfies Record<string, ProviderEntry>;

export type ProviderId = keyof typeof PROVIDERS;
export const PROVIDER_IDS = Object.keys(PROVIDERS) as ProviderId[];
export const isProviderId = (id: string): id is ProviderId => Object.hasOwn(PROVIDERS, id);

/** Bound to the functions that call providers, and only to those. */
export const PROVIDER_SECRETS: Secret[] = [...new Set(Object.values(PROVIDERS).flatMap((p) => p.secrets))];
