/**
 * Runway's scripted happy path and start failure, for the pipeline tests that run a video job
 * through every provider against fakes.
 */
import type { FakeServer } from "../fakeServer.js";

export interface VideoScriptContext {
  api: FakeServer;
  cdn: FakeServer;
  /** A small MP4 (starts with an `ftyp` box) the fake serves as the generated clip. */
  video: Buffer;
}

export interface VideoScript {
  /** Env vars the adapter needs: generated test credentials, never real ones. */
  credentials: Record<string, string>;
  baseUrlEnv: string;
  /** Start, two status calls (running, then succeeded) and the result download. */
  happyPath(ctx: VideoScriptContext): void;
  /** A start the provider refuses with a server error. */
  startError(ctx: VideoScriptContext): void;
}

export const script: VideoScript = {
  credentials: { RUNWAYML_API_SECRET: `key_test${process.pid}${Math.random().toString(16).slice(2)}` },
  baseUrlEnv: "RUNWAY_BASE_URL",
  happyPath({ api, cdn, video }) {
    api.on("POST", "/v1/image_to_video", { json: { id: "rw-task-1" } });
    api.on(
      "GET",
      "/v1/tasks/rw-task-1",
      { json: { id: "rw-task-1", status: "RUNNING", progress: 0.5, createdAt: "2026-01-01T00:00:00Z" } },
      { json: { id: "rw-task-1", status: "SUCCEEDED", createdAt: "2026-01-01T00:00:00Z", output: [`${cdn.url}/rw/output.mp4?_jwt=signed`] } },
    );
    cdn.on("GET", "/rw/output.mp4", { body: video, headers: { "content-type": "video/mp4", "content-length": String(video.length) } });
    // The job deletes Runway's copy once ours is stored.
    api.on("DELETE", "/v1/tasks/rw-task-1", { status: 204 });
  },
  startError({ api }) {
    api.on("POST", "/v1/image_to_video", { status: 500, json: { error: "internal" } });
  },
};
