/**
 * OpenAI GPT Image: face-preserving edits of the user's photo through the official `openai` SDK.
 * Synchronous: one multipart `POST /images/edits` carries the photo as a file and answers the
 * image inline as base64 (`data[].b64_json`), so there is no task to poll and no URL to fetch.
 * The SDK is imported on first use only: a cold start of the functions never loads it.
 */
import { maxResultBytes } from "../../config/params.js";
import { AppError } from "../../errors.js";
import { providerBaseUrl } from "../baseUrl.js";
import { classifyTransport } from "../http.js";
import { assertModelNotRetired } from "../lifecycle.js";
import { instructionFor } from "../prompts.js";
import { ProviderFailure, type FinishedOutcome, type ImageRequest, type ProviderError, type ResultImage, type SyncImageProvider } from "../types.js";
import {
  DEFAULT_MODEL,
  INPUT_MIMES,
  MAX_INPUT_BYTES,
  NAME,
  OPENAI_BASE_URL,
  OPENAI_MODELS,
  PROMPT_OVERRIDES,
  TRANSPARENT_MODELS,
  editResponseSchema,
  errorForApiError,
  imageFrom,
  outputFor,
} from "./api.js";

const importSdk = () => import("openai");
type Sdk = Awaited<ReturnType<typeof importSdk>>;
type Client = InstanceType<Sdk["OpenAI"]>;

export interface OpenAIOptions {
  apiKey: string;
  baseUrl?: string;
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Per edit call; GPT Image edits at high quality take up to a couple of minutes. */
  timeoutMs?: number;
  /** Decides which models are shut down; injected in tests. */
  now?: () => Date;
}

// Kept once loaded, so classify() can recognise the SDK's error classes.
let sdk: Sdk | undefined;
const loadSdk = async (): Promise<Sdk> => (sdk ??= await importSdk());

export function createOpenAIProvider(options: OpenAIOptions): SyncImageProvider {
  const baseURL = options.baseUrl ?? providerBaseUrl("openai", OPENAI_BASE_URL);
  const timeout = options.timeoutMs ?? 240_000;
  let client: Client | undefined;
  const getClient = async () =>
    // maxRetries 0: an edit that may have been accepted (and billed) is never blindly resent.
    (client ??= new (await loadSdk()).OpenAI({ apiKey: options.apiKey, baseURL, fetch: options.fetch, maxRetries: 0, timeout, logLevel: "off" }));

  return {
    id: "openai",
    models: {
      defaults: { edit: DEFAULT_MODEL, style: DEFAULT_MODEL, enhance: DEFAULT_MODEL, cutout: DEFAULT_MODEL },
      allowed: OPENAI_MODELS,
    },

    async run(req, signal): Promise<FinishedOutcome> {
      assertAcceptable(req, (options.now ?? (() => new Date()))());
      const prompt = instructionFor(req, PROMPT_OVERRIDES);
      const output = outputFor(req.feature);
      const { toFile } = await loadSdk();
      const image = await toFile(req.image.bytes, `photo.${req.image.mime.slice("image/".length)}`, { type: req.image.mime });
      const response = await (
        await getClient()
      ).images
        .edit(
          {
            model: req.model,
            image,
            prompt,
            n: 1,
            quality: "high",
            output_format: output.output_format,
            ...(output.background && { background: output.background }),
            // No input_fidelity: every model we send to processes inputs at high fidelity, and the
            // SDK says to omit it from gpt-image-2 on (it was for gpt-image-1.5, now shut down).
          },
          { signal, timeout, maxRetries: 0 },
        )
        .asResponse(); // the raw body, parsed with our schema below
      const parsed = editResponseSchema.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success)
        throw new ProviderFailure({ kind: "retryable", message: "The provider sent a response we could not read.", providerCode: "malformed-response" });
      const result = imageFrom(parsed.data, output.mime, maxResultBytes());
      return "bytes" in result ? { state: "succeeded", images: [result] } : { state: "failed", error: result };
    },

    async fetchResult(outcome): Promise<ResultImage[]> {
      // Always inline bytes (GPT Image models never return URLs); their size was checked in submit.
      return outcome.images.filter((image): image is ResultImage => "bytes" in image);
    },

    classify(error): ProviderError {
      if (error instanceof ProviderFailure) return error.error;
      if (sdk && error instanceof sdk.APIConnectionTimeoutError)
        return { kind: "retryable", message: `${NAME} did not answer in time.`, providerCode: "timeout" };
      if (sdk && error instanceof sdk.APIConnectionError) return { kind: "retryable", message: `${NAME} could not be reached.`, providerCode: "network" };
      if (sdk && error instanceof sdk.APIError && typeof error.status === "number") return errorForApiError(error as typeof error & { status: number });
      return classifyTransport(error, NAME);
    },
  };
}

/** Refuses, before any upload, what the API would refuse: shut-down models, HEIC, oversized files, cutouts without alpha. */
function assertAcceptable(req: ImageRequest, now: Date): void {
  assertModelNotRetired("openai", req.model, now);
  if (!INPUT_MIMES.has(req.image.mime)) {
    throw new AppError(
      "failed-precondition",
      "image: OpenAI accepts JPEG, PNG or WebP photos only; send one of those or choose another provider",
      "provider-image-type-unsupported",
    );
  }
  if (req.image.bytes.byteLength > MAX_INPUT_BYTES) {
    throw new AppError("invalid-argument", "image: larger than OpenAI accepts (50 MB)", "provider-image-too-large");
  }
  if (req.feature === "cutout" && !TRANSPARENT_MODELS.has(req.model)) {
    throw new AppError("invalid-argument", `model: ${req.model} cannot return transparent cutouts; use ${DEFAULT_MODEL}`, "model-feature-unsupported");
  }
}
