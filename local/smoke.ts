/**
 * Try the pipeline as the mobile app would: sign in anonymously, send a synthetic face to
 * createJob, and save the transformed image.
 *
 *   npm run smoke             against a running `npm start`
 *   npm run smoke -- --start  starts (and stops) its own stack
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
    console.log(`smoke: signed in as ${client.uid}; job ${res.jobId} ${res.status}, ${res.result.width}x${res.result.height} ${res.result.mimeType}; saved in test-artifacts/`);
    return res;
  } finally {
    await client.close();
  }
}

async function main() {
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
