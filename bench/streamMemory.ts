/**
 * Peak RSS while a video result is streamed from a provider into transient Storage (issue: video,
 * bench): it must stay within idle + 64 MB whatever the video's size, i.e. nothing is buffered
 * whole. The Storage emulator runs in its own process so only the pipeline's memory is measured.
 */
import { execFileSync, spawn } from "node:child_process";
import { readyLine, ROOT, TSX } from "./backendsProcess.js";

export async function measureStreamMemory(sizeBytes = 200_000_000) {
  // `node --import tsx` (not the tsx CLI, whose grandchild would outlive the SIGKILL below).
  const storage = spawn(
    process.execPath,
    [
      ...TSX,
      "-e",
      `
    import("./local/storage-emulator.ts").then(async ({ startStorageEmulator }) => {
      const s = await startStorageEmulator({ port: 0, projectId: "demo-photo-fixer" });
      console.log("READY " + s.hostPort);
    });`,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    const [hostPort] = await readyLine(storage);
    const env = {
      ...process.env,
      GCLOUD_PROJECT: "demo-photo-fixer",
      FIREBASE_CONFIG: JSON.stringify({ projectId: "demo-photo-fixer", storageBucket: "demo-photo-fixer.appspot.com" }),
      FIREBASE_STORAGE_EMULATOR_HOST: hostPort,
      STORAGE_EMULATOR_HOST: `http://${hostPort}`,
      METADATA_SERVER_DETECTION: "none",
    };
    const out = execFileSync(process.execPath, ["--expose-gc", ...TSX, "bench/streamMemoryChild.ts", String(sizeBytes)], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    const { idle, peak, seconds } = JSON.parse(out.trim().split("\n").pop()!) as { idle: number; peak: number; seconds: number };
    const growthMb = (peak - idle) / 1e6;
    return {
      name: `peak RSS streaming a ${Math.round(sizeBytes / 1e6)} MB video into Storage (growth over idle, vs the video's size)`,
      detail: `idle ${(idle / 1e6).toFixed(0)} MB, peak ${(peak / 1e6).toFixed(0)} MB, +${growthMb.toFixed(1)} MB in ${seconds.toFixed(1)} s`,
      ratio: (peak - idle) / sizeBytes,
      ok: growthMb <= 64,
      budget: "growth ≤ 64 MB",
    };
  } finally {
    storage.kill("SIGKILL");
  }
}
