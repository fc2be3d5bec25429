/**
 * Per test file: a fake of one provider's API host and a fake delivery host (CDN) for its result
 * URLs, both on 127.0.0.1, plus a synthetic face and result images to serve. The adapter under test
 * is pointed at the API fake through `<PROVIDER>_BASE_URL`, exactly as a region or proxy would be.
 */
import { after, afterEach, before, beforeEach } from "node:test";
import { makeFaceImage } from "../fixtures/images.js";
import { FakeServer } from "./fakeServer.js";
import { PROVIDER_SCRIPTS } from "./providerScripts.js";
import type { InputImage } from "../../src/providers/types.js";

export interface ProviderFakes {
  api: FakeServer;
  cdn: FakeServer;
  /** A distinct synthetic image the fake returns as the "generated" result. */
  resultJpeg: Buffer;
  resultPng: Buffer;
  face: InputImage;
}

export function useProviderFakes(envName: string): () => ProviderFakes {
  let fakes: ProviderFakes | undefined;
  before(async () => {
    const [api, cdn] = await Promise.all([FakeServer.start(), FakeServer.start()]);
    const faceBytes = await makeFaceImage({ width: 256, height: 256, format: "jpeg" });
    fakes = {
      api,
      cdn,
      resultJpeg: await makeFaceImage({ width: 320, height: 320, format: "jpeg", background: "#ffcc00" }),
      resultPng: await makeFaceImage({ width: 320, height: 320, format: "png", background: "transparent" }),
      face: { bytes: faceBytes, mime: "image/jpeg", width: 256, height: 256 },
    };
    process.env[envName] = api.url;
    process.env.PROVIDER_POLL_INTERVAL_MS = "5";
  });
  afterEach(() => {
    fakes?.api.reset();
    fakes?.cdn.reset();
  });
  after(async () => {
    delete process.env[envName];
    await fakes?.api.close();
    await fakes?.cdn.close();
  });
  return () => fakes!;
}

/**
 * Per suite: one scripted provider (test/support/providerScripts.ts) enabled against a fake of its
 * API, with its generated test credentials, reset before each test. For tests of routing and
 * fallback that need a real third-party adapter beside `local`.
 */
export function useScriptedProviderFake(id: string): () => FakeServer {
  const script = PROVIDER_SCRIPTS[id];
  if (!script) throw new Error(`no scripted fake for ${id}`);
  let api: FakeServer | undefined;
  before(async () => {
    api = await FakeServer.start();
    Object.assign(process.env, script.credentials, { [script.baseUrlEnv]: api.url });
  });
  beforeEach(() => api?.reset());
  after(async () => {
    await api?.close();
    delete process.env[script.baseUrlEnv];
    for (const name of Object.keys(script.credentials)) delete process.env[name];
  });
  return () => api!;
}
