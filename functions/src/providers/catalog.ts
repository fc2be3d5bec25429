/**
 * Every provider face data may go to (the privacy policy's list) with the credentials it needs.
 * Tiny on purpose: the triggers import it to bind secrets, so it must not load any adapter code.
 * A provider whose credentials are absent is unavailable and never chosen as a default.
 */
import { defineSecret } from "firebase-functions/params";

type Secret = ReturnType<typeof defineSecret>;

export interface ProviderEntry {
  id: string;
  /** Shown to users in messages and to admins in the README. */
  name: string;
  secrets: Secret[];
  /** Credentials present (or, for Vertex AI, a Google Cloud project to bill). */
  isConfigured(): boolean;
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

function entry(id: string, name: string, secrets: Secret[], isConfigured = hasValues(secrets)): ProviderEntry {
  return { id, name, secrets, isConfigured };
}

export const PROVIDERS = {
  local: entry("local", "Photo Fixer (on our servers)", [], () => true),
  openai: entry("openai", "OpenAI GPT Image", [secret("OPENAI_API_KEY", "OpenAI API key")]),
  // Vertex AI authenticates with the function's service account (ADC): no key, only a project.
  gemini: entry("gemini", "Google Gemini (Vertex AI)", [], vertexConfigured("GEMINI_BASE_URL")),
  bfl: entry("bfl", "Black Forest Labs FLUX", [secret("BFL_API_KEY", "Black Forest Labs API key")]),
  seedream: entry("seedream", "ByteDance Seedream", [ARK_API_KEY]),
  wan: entry("wan", "Alibaba Wan", [secret("DASHSCOPE_API_KEY", "Alibaba Cloud Model Studio (DashScope) API key")]),
  minimax: entry("minimax", "MiniMax", [secret("MINIMAX_API_KEY", "MiniMax API key")]),
  kling: entry("kling", "Kling AI", [secret("KLING_ACCESS_KEY", "Kling access key"), secret("KLING_SECRET_KEY", "Kling secret key")]),
  cutoutpro: entry("cutoutpro", "Cutout.Pro", [secret("CUTOUT_PRO_API_KEY", "Cutout.Pro API key")]),
  picwish: entry("picwish", "PicWish", [secret("PICWISH_API_KEY", "PicWish API key")]),
  // Video-only providers (Kling, MiniMax and Wan serve both, with the same keys).
  veo: entry("veo", "Google Veo (Vertex AI)", [], vertexConfigured("VEO_BASE_URL")),
  runway: entry("runway", "Runway", [secret("RUNWAYML_API_SECRET", "Runway API key")]),
  seedance: entry("seedance", "ByteDance Seedance", [ARK_API_KEY]),
} satisfies Record<string, ProviderEntry>;

export type ProviderId = keyof typeof PROVIDERS;
export const PROVIDER_IDS = Object.keys(PROVIDERS) as ProviderId[];
export const isProviderId = (id: string): id is ProviderId => Object.hasOwn(PROVIDERS, id);

/** Bound to the functions that call providers, and only to those. */
export const PROVIDER_SECRETS: Secret[] = [...new Set(Object.values(PROVIDERS).flatMap((p) => p.secrets))];
