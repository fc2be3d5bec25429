/** Builders for callable payloads, so each test states only what it varies. */
import { randomUUID } from "node:crypto";
import { makeFaceImage, type FixtureFormat } from "../fixtures/images.js";

export const CONSENT = { faceDataProcessing: true, policyVersion: "2026-11" } as const;

export async function faceImage(format: FixtureFormat = "jpeg", size = 256) {
  const bytes = await makeFaceImage({ width: size, height: size, format });
  return { base64: bytes.toString("base64"), mimeType: `image/${format}` };
}

export async function createJobRequest(overrides: Record<string, unknown> = {}) {
  return {
    requestId: randomUUID(),
    feature: "style",
    style: "noir",
    image: await faceImage(),
    consent: CONSENT,
    ...overrides,
  };
}
