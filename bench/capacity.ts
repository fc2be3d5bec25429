/**
 * Capacity (ARCHITECTURE §10; docs/CAPACITY.md): measured per-job memory of createJob, by input
 * size and by how many run at once in one process, as one instance would run them. For each photo
 * (synthetic noise JPEGs at quality 90: max-size 22 MP ~14.6 MB, typical 12 MP, small 1 MP) and
 * each N, one process runs N createJob handlers at once (local provider, style vintage, like
 * bench/imageMemory.ts, whose measured process this reuses) and reports peak RSS growth over the
 * idle process, in total and per job, against what admission control charges a job
 * (createJobBytes: 1.5 rasters + 2.5x the file + 8 MB). Not gated: this is the raw cost the gate's charge must cover.
 *
 *   tsx bench/capacity.ts [N,N,...] [small,typical,max]     (default 1,4,8 and all three)
 *
 * Upload memory is bench/uploadMemory.ts's row (the handler streams: ~+32 MB whatever the size).
 */
import { rmSync, statSync } from "node:fs";
import path from "node:path";
import { makeScratchDir } from "../local/storage-emulator.js";
import { startBackendsProcess } from "./backendsProcess.js";
import { generateImages, peakGrowth, runImageChild } from "./imageMemory.js";

const PHOTOS = { small: "small.jpg", typical: "typical.jpg", max: "max.jpg" } as const;

async function main() {
  const counts = (process.argv[2] ?? "1,4,8").split(",").map(Number);
  const photos = (process.argv[3] ?? "small,typical,max").split(",") as (keyof typeof PHOTOS)[];
  const dir = makeScratchDir("bench-capacity");
  const backends = await startBackendsProcess();
  const mb = (n: number) => (n / 1e6).toFixed(0);
  try {
    generateImages(dir, true);
    console.log("| photo | file | raster (w×h×3) | charged a job | N at once | idle | peak growth | per job | per job / charge | seconds |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const photo of photos) {
      const image = path.join(dir, PHOTOS[photo]);
      const bytes = statSync(image).size;
      for (const n of counts) {
        const r = runImageChild(backends.env, image, "image/jpeg", path.join(dir, "warm.jpg"), "vintage", n);
        const growth = peakGrowth(r);
        const charge = r.charge; // createJobBytes on the request, as the gate charges it
        console.log(
          `| ${photo} ${((r.width * r.height) / 1e6).toFixed(1)} MP | ${(bytes / 1e6).toFixed(1)} MB | ${mb(r.width * r.height * 3)} MB | ${mb(charge)} MB | ${n} | ${mb(r.idle)} MB | +${mb(growth)} MB | ${mb(growth / n)} MB | ${(growth / n / charge).toFixed(2)} | ${(r.ms / 1000).toFixed(1)} |`,
        );
      }
    }
  } finally {
    backends.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
