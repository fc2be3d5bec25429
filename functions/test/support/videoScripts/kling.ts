/**
 * Kling video scripted for the video pipeline tests: start, two status calls, the result from the
 * CDN fake. The adapter refuses photos under 300 px per side or beyond 1:2.5–2.5:1 (and over
 * 10 MB, non-JPEG/PNG), so the job's photo must be within that range.
 */
import type { FakeServer } from "../fakeServer.js";

export interface VideoScript {
  /** Env vars the adapter needs: generated test credentials, never real ones. */
  credentials: Record<string, string>;
  baseUrlEnv: string;
  /** Start, two status calls (running, then succeeded) and the result download. */
  happyPath(ctx: { api: FakeServer; cdn: FakeServer; video: Buffer }): void;
  /** A start the provider refuses with a server error. */
  startError(ctx: { api: FakeServer; cdn: FakeServer; video: Buffer }): void;
}

const envelope = (data: object | null, code = 0) => ({ json: { code, message: code ? "internal error" : "SUCCEED", request_id: "r", data } });
const task = (task_status: string, extra: object = {}) =>
  envelope({ task_id: "kling-pipeline-1", task_status, task_status_msg: "", created_at: 1, updated_at: 2, ...extra });

export const script: VideoScript = {
  credentials: {
    KLING_ACCESS_KEY: `ak-kling-test-${process.pid}-${Math.random().toString(36).slice(2)}`,
    KLING_SECRET_KEY: `sk-kling-test-${process.pid}-${Math.random().toString(36).slice(2)}`,
  },
  baseUrlEnv: "KLING_BASE_URL",
  happyPath({ api, cdn, video }) {
    api.on("POST", "/v1/videos/image2video", task("submitted"));
    api.on(
      "GET",
      "/v1/videos/image2video/kling-pipeline-1",
      task("processing"),
      task("succeed", { task_result: { videos: [{ id: "v1", url: `${cdn.url}/kling/output.mp4`, duration: "5.0" }] } }),
    );
    cdn.on("GET", "/kling/output.mp4", { body: video, headers: { "content-type": "video/mp4", "content-length": String(video.length) } });
  },
  startError({ api }) {
    api.on("POST", "/v1/videos/image2video", { status: 500, ...envelope(null, 5000) });
  },
};
