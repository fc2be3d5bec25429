/**
 * One scripted happy path per provider fake, used by the tests that run createJob through every
 * provider (in-process and through the Functions emulator). Each returns the request fields that
 * select a feature the provider serves.
 */
import type { FakeServer } from "./fakeServer.js";

export interface ScriptContext {
  api: FakeServer;
  cdn: FakeServer;
  resultJpeg: Buffer;
  resultPng: Buffer;
}

export interface ProviderScript {
  /** Env vars the adapter needs: generated test credentials, never real ones. */
  credentials: Record<string, string>;
  baseUrlEnv: string;
  /** createJob fields beyond requestId, image and consent. */
  request: Record<string, unknown>;
  happyPath(ctx: ScriptContext): void;
  /** A submit the provider refuses with a server error. */
  serverError(ctx: ScriptContext): void;
}

const key = (name: string) => `${name.toLowerCase()}-test-${process.pid}-${Math.random().toString(36).slice(2)}`;

export const PROVIDER_SCRIPTS: Record<string, ProviderScript> = {
  bfl: {
    credentials: { BFL_API_KEY: key("bfl") },
    baseUrlEnv: "BFL_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, cdn, resultJpeg }) {
      api.on("POST", "/v1/flux-2-pro", { json: { id: "t1", polling_url: `${api.url}/v1/get_result?id=t1` } });
      api.on("GET", "/v1/get_result", { json: { status: "Pending" } }, { json: { status: "Ready", result: { sample: `${cdn.url}/r.jpg` } } });
      cdn.on("GET", "/r.jpg", { body: resultJpeg });
    },
    serverError({ api }) {
      api.on("POST", "/v1/flux-2-pro", { status: 500, json: { detail: "internal" } });
    },
  },
  seedream: {
    credentials: { ARK_API_KEY: key("ark") },
    baseUrlEnv: "SEEDREAM_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, resultJpeg }) {
      api.on("POST", "/images/generations", {
        json: { model: "doubao-seedream-5-0-260128", created: 1, data: [{ b64_json: resultJpeg.toString("base64"), size: "300x300" }] },
      });
    },
    serverError({ api }) {
      api.on("POST", "/images/generations", { status: 500, json: { error: { code: "InternalServiceError", message: "internal" } } });
    },
  },
  minimax: {
    credentials: { MINIMAX_API_KEY: key("minimax") },
    baseUrlEnv: "MINIMAX_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, cdn, resultJpeg }) {
      api.on("POST", "/v1/image_generation", {
        json: { id: "1", data: { image_urls: [`${cdn.url}/m.jpg`] }, base_resp: { status_code: 0, status_msg: "success" } },
      });
      cdn.on("GET", "/m.jpg", { body: resultJpeg });
    },
    serverError({ api }) {
      // MiniMax reports failures inside HTTP 200: 1024 is its transient internal error.
      api.on("POST", "/v1/image_generation", { json: { base_resp: { status_code: 1024, status_msg: "internal error" } } });
    },
  },
  cutoutpro: {
    credentials: { CUTOUT_PRO_API_KEY: key("cutout") },
    baseUrlEnv: "CUTOUTPRO_BASE_URL",
    request: { feature: "cutout" },
    happyPath({ api, resultPng }) {
      api.on("POST", "/api/v1/matting2", { json: { code: 0, data: { imageBase64: resultPng.toString("base64") }, msg: null, time: 1 } });
    },
    serverError({ api }) {
      api.on("POST", "/api/v1/matting2", { status: 502, body: "Bad Gateway" });
    },
  },
  picwish: {
    credentials: { PICWISH_API_KEY: key("picwish") },
    baseUrlEnv: "PICWISH_BASE_URL",
    request: { feature: "cutout" },
    happyPath({ api, cdn, resultPng }) {
      api.on("POST", "/api/tasks/visual/segmentation", {
        json: { status: 200, message: "success", data: { task_id: "t-1", state: 1, progress: 100, image: `${cdn.url}/out.png` } },
      });
      cdn.on("GET", "/out.png", { body: resultPng, headers: { "content-type": "image/png" } });
    },
    serverError({ api }) {
      api.on("POST", "/api/tasks/visual/segmentation", { status: 503, json: { status: 503, message: "busy" } });
    },
  },
  wan: {
    credentials: { DASHSCOPE_API_KEY: key("dashscope") },
    baseUrlEnv: "WAN_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, cdn, resultPng }) {
      api.on("POST", "/api/v1/services/aigc/image2image/image-synthesis", { json: { request_id: "r", output: { task_id: "t1", task_status: "PENDING" } } });
      api.on(
        "GET",
        "/api/v1/tasks/t1",
        { json: { output: { task_id: "t1", task_status: "RUNNING" } } },
        { json: { output: { task_id: "t1", task_status: "SUCCEEDED", results: [{ url: `${cdn.url}/w.png` }] } } },
      );
      cdn.on("GET", "/w.png", { body: resultPng });
    },
    serverError({ api }) {
      api.on("POST", "/api/v1/services/aigc/image2image/image-synthesis", {
        status: 500,
        json: { request_id: "r", code: "InternalError", message: "internal" },
      });
    },
  },
  kling: {
    credentials: { KLING_ACCESS_KEY: key("kling-ak"), KLING_SECRET_KEY: key("kling-sk") },
    baseUrlEnv: "KLING_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, cdn, resultPng }) {
      api.on("POST", "/v1/images/generations", { json: { code: 0, message: "SUCCEED", request_id: "r", data: { task_id: "t1", task_status: "submitted" } } });
      api.on(
        "GET",
        "/v1/images/generations/t1",
        { json: { code: 0, data: { task_id: "t1", task_status: "processing" } } },
        { json: { code: 0, data: { task_id: "t1", task_status: "succeed", task_result: { images: [{ index: 0, url: `${cdn.url}/k.png` }] } } } },
      );
      cdn.on("GET", "/k.png", { body: resultPng });
    },
    serverError({ api }) {
      api.on("POST", "/v1/images/generations", { status: 500, json: { code: 5000, message: "internal", request_id: "r" } });
    },
  },
  openai: {
    credentials: { OPENAI_API_KEY: key("openai") },
    baseUrlEnv: "OPENAI_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, resultJpeg }) {
      api.on("POST", "/images/edits", { json: { created: 1767225600, output_format: "jpeg", data: [{ b64_json: resultJpeg.toString("base64") }] } });
    },
    serverError({ api }) {
      api.on("POST", "/images/edits", { status: 500, json: { error: { message: "internal", type: "server_error", code: null } } });
    },
  },
  gemini: {
    // Vertex AI authenticates with the service account: no key, only a project (the test's own).
    credentials: {},
    baseUrlEnv: "GEMINI_BASE_URL",
    request: { feature: "style", style: "watercolor" },
    happyPath({ api, resultPng }) {
      api.on("POST", GEMINI_GENERATE, {
        json: {
          candidates: [
            { content: { role: "model", parts: [{ inlineData: { mimeType: "image/png", data: resultPng.toString("base64") } }] }, finishReason: "STOP" },
          ],
        },
      });
    },
    serverError({ api }) {
      api.on("POST", GEMINI_GENERATE, { status: 503, json: { error: { code: 503, message: "unavailable", status: "UNAVAILABLE" } } });
    },
  },
};

const GEMINI_GENERATE = /\/publishers\/google\/models\/gemini-3-pro-image:generateContent$/;
