/**
 * MiniMax Hailuo video scripted for the video pipeline tests: start, two status calls (the second
 * also retrieves the file's download URL), the result from the CDN fake. The adapter refuses
 * photos with a short side of 300 px or less or beyond 2:5–5:2 (and 20 MB or more, HEIC), so the
 * job's photo must be within that range.
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

const ok = { status_code: 0, status_msg: "success" };

export const script: VideoScript = {
  credentials: { MINIMAX_API_KEY: `minimax-test-${process.pid}-${Math.random().toString(36).slice(2)}` },
  baseUrlEnv: "MINIMAX_BASE_URL",
  happyPath({ api, cdn, video }) {
    api.on("POST", "/v1/video_generation", { json: { task_id: "176800000000001", base_resp: ok } });
    api.on(
      "GET",
      "/v1/query/video_generation",
      { json: { task_id: "176800000000001", status: "Processing", base_resp: ok } },
      { json: { task_id: "176800000000001", status: "Success", file_id: "176800000000002", video_width: 1366, video_height: 768, base_resp: ok } },
    );
    api.on("GET", "/v1/files/retrieve", {
      json: {
        file: {
          file_id: 176800000000002,
          bytes: video.length,
          filename: "output_aigc.mp4",
          purpose: "video_generation",
          download_url: `${cdn.url}/minimax/output_aigc.mp4?Expires=1&Signature=s`,
        },
        base_resp: ok,
      },
    });
    cdn.on("GET", "/minimax/output_aigc.mp4", { body: video, headers: { "content-type": "video/mp4", "content-length": String(video.length) } });
  },
  startError({ api }) {
    api.on("POST", "/v1/video_generation", { status: 500, json: { base_resp: { status_code: 1000, status_msg: "unknown error" } } });
  },
};
