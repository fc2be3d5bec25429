/**
 * Veo's scripted happy path and start failure, for the pipeline tests that run a video job
 * through every provider against fakes. Paths are matched by suffix, so any project/location the
 * adapter is configured with works. The fake answers the video inline (bytesBase64Encoded) even
 * when the job sends a storageUri: it cannot write into the storage emulator the way Veo writes
 * into our bucket.
 */
import type { VideoScript } from "./runway.js";

const operationName = (path: string) => `${path.replace(/^\/v1\//, "").replace(/:predictLongRunning$/, "")}/operations/veo-op-1`;

export const script: VideoScript = {
  // Vertex AI needs no key: a project (and VEO_BASE_URL on a loopback fake, so no credential is sent).
  credentials: { GOOGLE_CLOUD_PROJECT: "photo-fixer-test" },
  baseUrlEnv: "VEO_BASE_URL",
  happyPath({ api, video }) {
    api.on("POST", /:predictLongRunning$/, (call) => ({ json: { name: operationName(call.path) } }));
    api.on(
      "POST",
      /:fetchPredictOperation$/,
      (call) => ({ json: { name: call.json?.operationName, done: false } }),
      (call) => ({
        json: {
          name: call.json?.operationName,
          done: true,
          response: { raiMediaFilteredCount: 0, videos: [{ bytesBase64Encoded: video.toString("base64"), mimeType: "video/mp4" }] },
        },
      }),
    );
  },
  startError({ api }) {
    api.on("POST", /:predictLongRunning$/, { status: 500, json: { error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" } } });
  },
};
