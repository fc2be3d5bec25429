/**
 * Wan video (DashScope) scripted for the video pipeline tests: start, two status calls, the result
 * from the CDN fake. The adapter refuses photos outside 360–2000 px per side, so the job's photo
 * must be within that range.
 */
import type { FakeServer } from "../fakeServer.js";

export interface VideoScript {
  credentials: Record<string, string>;
  baseUrlEnv: string;
  happyPath(ctx: { api: FakeServer; cdn: FakeServer; video: Buffer }): void;
  startError(ctx: { api: FakeServer; cdn: FakeServer; video: Buffer }): void;
}

const task = (task_status: string, extra: object = {}) => ({ json: { request_id: "r", output: { task_id: "wan-pipeline-1", task_status, ...extra } } });

export const script: VideoScript = {
  credentials: { DASHSCOPE_API_KEY: `sk-wan-test-${process.pid}-${Math.random().toString(36).slice(2)}` },
  baseUrlEnv: "WAN_BASE_URL",
  happyPath({ api, cdn, video }) {
    api.on("POST", "/api/v1/services/aigc/video-generation/video-synthesis", task("PENDING"));
    api.on("GET", "/api/v1/tasks/wan-pipeline-1", task("RUNNING"), task("SUCCEEDED", { video_url: `${cdn.url}/wan/video.mp4?Expires=1&Signature=s` }));
    cdn.on("GET", "/wan/video.mp4", { body: video, headers: { "content-type": "video/mp4", "content-length": String(video.length) } });
  },
  startError({ api }) {
    api.on("POST", "/api/v1/services/aigc/video-generation/video-synthesis", {
      status: 500,
      json: { request_id: "r", code: "InternalError", message: "internal" },
    });
  },
};
