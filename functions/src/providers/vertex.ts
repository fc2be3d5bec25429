/**
 * The Vertex AI client shared by the Gemini and Veo adapters: `@google/genai` in Vertex mode, with
 * the project and location resolved, the base URL (overridable by `<PROVIDER>_BASE_URL`), and the
 * credential choice — ADC (the function's service account; no key is stored) for Google's API
 * hosts only, no credential at all for a loopback fake, or a test's own `authClient`.
 *
 * The SDK is imported on first use only, never at cold start: nothing here imports it statically,
 * and building a client getter does not load it either.
 */
import { AppError } from "../errors.js";
import { providerBaseUrl } from "./baseUrl.js";
import { isLoopback } from "./http.js";

const importSdk = () => import("@google/genai");
export type GenAiSdk = Awaited<ReturnType<typeof importSdk>>;
export type VertexClient = InstanceType<GenAiSdk["GoogleGenAI"]>;
type ClientOptions = NonNullable<ConstructorParameters<GenAiSdk["GoogleGenAI"]>[0]>;
type SdkHttpOptions = NonNullable<ClientOptions["httpOptions"]>;
type SdkAuthClient = NonNullable<NonNullable<ClientOptions["googleAuthOptions"]>["authClient"]>;

/**
 * The part of google-auth-library's AuthClient the SDK calls. A test hands any such object in; it
 * goes to the SDK as `googleAuthOptions.authClient` (the SDK's supported way to bring your own
 * credentials), so tests send a generated token and never touch ADC.
 */
export interface VertexAuthClient {
  getRequestHeaders(url?: string | URL): Promise<Headers>;
}

/** The host `@google/genai` itself picks for a Vertex location (src/_api_client.ts). */
export function vertexBaseUrl(location: string): string {
  if (location === "global") return "https://aiplatform.googleapis.com";
  if (location === "us" || location === "eu") return `https://aiplatform.${location}.rep.googleapis.com`;
  return `https://${location}-aiplatform.googleapis.com`;
}

/** Google's OAuth token goes to Google API hosts only. */
export const isGoogleApiHost = (host: string) => host === "googleapis.com" || host.endsWith(".googleapis.com");

// Kept once loaded, so an adapter's classify() can recognise the SDK's ApiError without loading it.
let sdk: GenAiSdk | undefined;
export const loadSdk = async (): Promise<GenAiSdk> => (sdk ??= await importSdk());
/** The SDK if some call has loaded it already, else undefined (nothing is imported). */
export const loadedSdk = (): GenAiSdk | undefined => sdk;

/** Loopback fakes (tests, the local stack) get no credential at all. */
const anonymous: VertexAuthClient = { getRequestHeaders: async () => new Headers() };

/** An adapter's test overrides, all optional. */
export interface VertexOptions {
  /** Default: GOOGLE_CLOUD_PROJECT, then GCLOUD_PROJECT (set by Cloud Functions). */
  project?: string;
  /** Default: GOOGLE_CLOUD_LOCATION, then the adapter's default location. */
  location?: string;
  /** Default: `<PROVIDER>_BASE_URL`, then the host the SDK picks for the location. */
  baseUrl?: string;
  authClient?: VertexAuthClient;
}

export interface VertexClientSpec {
  /** The provider id: names the `<PROVIDER>_BASE_URL` override and the configuration errors. */
  provider: "gemini" | "veo";
  /** Used when neither the options nor GOOGLE_CLOUD_LOCATION name one. */
  defaultLocation: string;
  /** The SDK's HTTP options besides the base URL (timeout, fetch, apiVersion). */
  httpOptions?: Omit<SdkHttpOptions, "baseUrl">;
}

/**
 * Resolves and checks the configuration now (a misconfigured provider fails when it is built) and
 * returns a getter for the one client, which imports the SDK and builds the client on first call.
 */
export function vertexClient(spec: VertexClientSpec, options: VertexOptions): () => Promise<VertexClient> {
  const { provider } = spec;
  const project = options.project ?? (process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT);
  const location = options.location ?? (process.env.GOOGLE_CLOUD_LOCATION || spec.defaultLocation);
  const baseUrl = options.baseUrl ?? providerBaseUrl(provider, vertexBaseUrl(location));
  if (!project) throw new AppError("failed-precondition", `provider: ${provider} is not configured (no Google Cloud project)`, "provider-unavailable");
  const host = new URL(baseUrl);
  // The ADC token is only ever sent to Google's API hosts; a loopback fake gets none.
  const authClient = options.authClient ?? (isLoopback(host.hostname) ? anonymous : undefined);
  if (!authClient && !isGoogleApiHost(host.host)) {
    throw new AppError("failed-precondition", `provider: ${provider.toUpperCase()}_BASE_URL must be a googleapis.com host`, "provider-unavailable");
  }
  let client: VertexClient | undefined;
  return async () =>
    (client ??= new (await loadSdk()).GoogleGenAI({
      vertexai: true,
      project,
      location,
      ...(authClient && { googleAuthOptions: { authClient: authClient as unknown as SdkAuthClient } }),
      httpOptions: { ...spec.httpOptions, baseUrl },
    }));
}
