/**
 * Try the pipeline as the mobile app would: sign in anonymously, send a synthetic face to
 * createJob, and save the transformed image.
 *
 *   npm run smoke                      against a running `npm start`
 *   npm run smoke -- --start           starts (and stops) its own stack
 *   npm run smoke -- --provider <id>   one synthetic face to the REAL provider API, in-process,
 *                                      with the key from the environment; skipped (exit 0) without it
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { makeFaceImage } from "../functions/test/fixtures/images";
import { emulatorClient, type ClientOptions } from "./client";
import { ROOT, startLocalStack } from "./stack";

type Created = { jobId: string; status: string; result?: { mimeType: string; base64: string; width: number; height: number } };

export async function runSmoke(o: ClientOptions = {}): Promise<Created> {
  const client = await emulatorClient(o);
  try {
    const face = await makeFaceImage({ width: 512, height: 512, format: "jpeg" });
    const res = await client.call<Created>("createJob", {
      requestId: randomUUID(),
      feature: "style",
      style: "sketch",
      image: { base64: face.toString("base64"), mimeType: "image/jpeg" },
      consent: { faceDataProcessing: true, policyVersion: "2026-11" },
    });
    if (res.status !== "succeeded" || !res.result) throw new Error(`createJob answered ${res.status}`);
    const dir = path.join(ROOT, "test-artifacts");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "smoke-input.jpg"), face);
    writeFileSync(path.join(dir, `smoke-result.${res.result.mimeType.split("/")[1]}`), Buffer.from(res.result.base64, "base64"));
    console.log(
      `smoke: signed in as ${client.uid}; job ${res.jobId} ${res.status}, ${res.result.width}x${res.result.height} ${res.result.mimeType}; saved in test-artifacts/`,
    );
    return res;
  } finally {
    await client.close();
  }
}

/** Deployers' check of a real provider key and API: the adapter exactly as createJob runs it. */
export async function runProviderSmoke(id: string): Promise<void> {
  const { PROVIDERS, isProviderId } = await import("../functions/src/providers/catalog.js");
  if (!isProviderId(id)) throw new Error(`unknown provider ${id}`);
  const needed = id === "gemini" ? ["GOOGLE_CLOUD_PROJECT"] : PROVIDERS[id].secrets.map((s) => s.name);
  const missing = needed.filter((name) => !process.env[name]);
  if (missing.length) return void console.log(`smoke: skipped ${id}: set ${missing.join(", ")} to call the real API`);
  if (id === "gemini") process.env.GCLOUD_PROJECT ??= process.env.GOOGLE_CLOUD_PROJECT;
  const [{ loadProvider, servesImages }, { runImageProvider }, { settings }] = await Promise.all([
    import("../functions/src/providers/registry.js"),
    import("../functions/src/jobs/runProvider.js"),
    import("../functions/src/config/params.js"),
  ]);
  if (!servesImages(id)) return void console.log(`smoke: ${id} serves video only; the real-API smoke covers image providers`);
  const provider = await loadProvider(id);
  const feature = (["style", "enhance", "cutout", "edit"] as const).find((f) => provider.models.defaults[f])!;
  const face = await makeFaceImage({ width: 512, height: 512, format: "jpeg" });
  const started = Date.now();
  const result = await runImageProvider(
    provider,
    {
      feature,
      model: provider.models.defaults[feature]!,
      image: { bytes: face, mime: "image/jpeg", width: 512, height: 512 },
      style: "sketch",
      prompt: "make it brighter",
    },
    settings(),
  );
  const dir = path.join(ROOT, "test-artifacts");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `smoke-${id}.${result.mime.split("/")[1]}`);
  writeFileSync(file, result.bytes);
  console.log(`smoke: ${id} ${feature} -> ${result.width}x${result.height} ${result.mime} in ${Date.now() - started} ms; saved ${path.relative(ROOT, file)}`);
}

async function main() {
  const providerIndex = process.argv.indexOf("--provider");
  if (providerIndex > 0) return runProviderSmoke(process.argv[providerIndex + 1] ?? "");
  if (!process.argv.includes("--start")) return void (await runSmoke());
  const stack = await startLocalStack();
  try {
    await runSmoke({ authPort: stack.ports.auth, functionsPort: stack.ports.functions });
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error("smoke: FAILED", err);
      process.exit(1);
    },
  );
}
