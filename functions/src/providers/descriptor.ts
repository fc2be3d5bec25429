/**
 * The shape of a provider descriptor: everything the backend knows about one provider, in its own
 * folder (`<id>/descriptor.ts`), listed once in descriptors.ts. Descriptors are imported at cold
 * start (the triggers bind their secrets), so they hold data and LAZY adapter loaders only: an
 * adapter and its SDK load on the first job that needs them.
 */
import { defineSecret } from "firebase-functions/params";
import type { ProviderLimits } from "../config/providerLimits.js";
import type { ImageProvider, VideoProvider } from "./types.js";

export type Secret = ReturnType<typeof defineSecret>;

/**
 * One model's documented lifecycle. Dates are UTC days (YYYY-MM-DD); a model is refused from the
 * start of its `shutdownOn` day (lifecycle.ts). `source` says where the id and dates come from: a
 * URL or a shared/providers file and section.
 */
export interface ModelFact {
  readonly id: string;
  readonly deprecatedOn?: string;
  readonly shutdownOn?: string;
  /** The model to use instead, named in the refusal and chosen for a retired default. */
  readonly replacement?: string;
  readonly source: string;
}

/**
 * What a provider says it keeps, shown to users by exportMyData. Taken from our notes on the
 * provider's documentation in `shared/providers/` (section 6, "Data retention", of each file in
 * `source`); "unconfirmed" means those notes found no statement. Update both together.
 */
export interface ProviderDataPractice {
  /** The provider's stated retention of what we send it and what it returns, in plain words. */
  readonly retention: string;
  /** Where the statement comes from: files under shared/providers/ (section 6 of each). */
  readonly source: readonly string[];
  /**
   * What deletion can ask the provider's API for (video tasks, by their task id): `cancel-and-delete`
   * (a running task is cancelled, a finished one deleted), `cancel-pending` (only a task not yet
   * started), `none` (no API for it), or `not-applicable` (nothing leaves our servers, or nothing is
   * kept by task). providers/retention.test.ts checks this against the adapters.
   */
  readonly deletionByApi: "cancel-and-delete" | "cancel-pending" | "none" | "not-applicable";
}

/** Default caps on our calls (config/providerLimits.ts), with where the numbers come from. */
export interface DefaultLimits extends ProviderLimits {
  /** The shared/providers file and what it says; a cap left out is no cap. */
  readonly source: string;
}

export interface ProviderDescriptor {
  readonly id: string;
  /** Shown to users in messages and to admins in the README. */
  readonly name: string;
  /** Bound to the functions that call providers (catalog.ts PROVIDER_SECRETS). */
  readonly secrets: readonly Secret[];
  /** Credentials present (or, for Vertex AI, a Google Cloud project to bill). */
  isConfigured(): boolean;
  /** Every model id the adapters accept (image and video), and every retired one still asked for. */
  readonly models: readonly ModelFact[];
  readonly retention: ProviderDataPractice;
  /** Absent: UNSTATED_LIMITS (config/providerLimits.ts): CONSERVATIVE for video, none for images. */
  readonly limits?: DefaultLimits;
  /** The image adapter, imported on first use; absent when the provider serves no images. */
  loadImage?: () => Promise<ImageProvider>;
  /** The video adapter, imported on first use; absent when the provider serves no video. */
  loadVideo?: () => Promise<VideoProvider>;
  /**
   * In-process providers: the raw pixels an image job holds beyond one streamed pass, in bytes per
   * pixel of its input, read off the unparsed request before anything is decoded. The admission
   * gate adds it to its charge (capacity/admission.ts). Absent: none (the photo is sent undecoded).
   */
  imageHeldBytesPerPixel?: (request: HeldPixelsRequest) => Promise<number>;
  /** The README provider tables' cells that are prose (npm run docs:providers renders the rest). */
  readonly docs: { readonly auth: string; readonly imageNotes?: string; readonly videoNotes?: string };
}

/** What decides an image job's held pixels: the request's own fields, unvalidated, and its photo's size. */
export interface HeldPixelsRequest {
  readonly feature: unknown;
  readonly style: unknown;
  readonly prompt: unknown;
  readonly width: number;
  readonly height: number;
  /** The pixel cap (MAX_IMAGE_PIXELS), which bounds an upscale. */
  readonly maxPixels: number;
  /** The result cap (config/params.ts maxResultBytes), which bounds a result a provider makes in-process. */
  readonly maxResultBytes: number;
}

/** Keeps the literal id and which adapters exist in the type (descriptors.ts derives the ids). */
export const defineProvider = <const D extends ProviderDescriptor>(descriptor: D): D => descriptor;

export const secret = (name: string, description: string) => defineSecret(name, { description });

/** Configured when every secret has a value (they are bound to the calling function). */
export const hasValues = (secrets: readonly Secret[]) => () => secrets.every((s) => Boolean(process.env[s.name]));

/**
 * Vertex AI needs a project; it counts as configured on Cloud Functions, and in the emulator or
 * tests only when its base URL points at a fake, so a developer's own Google credentials are never used.
 */
export function vertexConfigured(baseUrlEnv: string) {
  return () => {
    const project = process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT;
    return Boolean(project && (process.env[baseUrlEnv] || (process.env.K_SERVICE && process.env.FUNCTIONS_EMULATOR !== "true")));
  };
}

/** Models documented in `source` with no announced deprecation or shutdown. */
export const current = (source: string, ...ids: string[]): ModelFact[] => ids.map((id) => ({ id, source }));
