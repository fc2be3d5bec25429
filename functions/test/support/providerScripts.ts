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
};
