/**
 * Seedance (Ark) scripted for the video pipeline tests: start, two status calls, the result from the
 * CDN fake. Paths are relative to SEEDANCE_BASE_URL (the real one ends in `/api/v3`). The adapter
 * refuses photos under 300 px per side, so the job's photo must be at least that large.
 */
import type { FakeServer } from "../fakeServer.js";

export interface VideoScript {
  credentials: Record<string, string>;
  baseUrlEnv: string;
  happyPath(ctx: { api: FakeServer; cdn: FakeServer; video: Buffer }): void;
  startError(ctx: { api: FakeServer; cdn: FakeServer; video: Buffer }): void;
}

const TASKS = "/contents/generations/tasks";

export const script: VideoScript = {
  credentials: { ARK_API_KEY: `ark-test-${process.pid}-${Math.random().toString(36).slice(2)}` },
  baseUrlEnv: "SEEDANCE_BASE_URL",
  happyPath({ api, cdn, video }) {
    api.on("POST", TASKS, { json: { id: "cgt-pipeline-1" } });
    api.on(
      "GET",
      `${TASKS}/cgt-pipeline-1`,
      { json: { id: "cgt-pipeline-1", status: "running" } },
      { json: { id: "cgt-pipeline-1", status: "succeeded", content: { video_url: `${cdn.url}/seedance/video.mp4?X-Tos-Signature=s` } } },
    );
    api.on("DELETE", `${TASKS}/cgt-pipeline-1`, { json: {} }); // deleteTask after our copy is safe
    cdn.on("GET", "/seedance/video.mp4", { body: video, headers: { "content-type": "video/mp4", "content-length": String(video.length) } });
  },
  startError({ api }) {
    api.on("POST", TASKS, { status: 500, json: { error: { code: "InternalServiceError", message: "internal" } } });
  },
};
