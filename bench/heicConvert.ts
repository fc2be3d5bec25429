/**
 * HEIC → JPEG at ingest (issue #5): time and peak RSS growth to convert a synthetic 12 MP HEIC.
 * ARCHITECTURE §10's "4x the image's byte size" cannot apply to a decode (a 12 MP photo is
 * 36 MB of pixels whatever its file size), so the budget is against the decoded RGB raster:
 * growth ≤ 6x it (libheif's WebAssembly heap is ~3x, the pixels handed back 1x, the JPEG and
 * sharp's buffers the rest), i.e. ≤ ~220 MB of createJob's 1 GiB, one conversion at a time.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const TSX_CLI = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
const RASTER_BYTES = 4032 * 3024 * 3;

export function measureHeicConversion() {
  const out = execFileSync(process.execPath, ["--expose-gc", TSX_CLI, "bench/heicConvertChild.ts"], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 20 });
  const { idle, peak, ms, heicBytes, jpegBytes } = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
  const growth = peak! - idle!;
  return {
    name: "HEIC → JPEG at ingest, 12 MP synthetic HEIC (peak RSS growth vs the decoded RGB raster)",
    detail: `${(ms! / 1000).toFixed(2)} s, ${(heicBytes! / 1e6).toFixed(1)} MB HEIC → ${(jpegBytes! / 1e6).toFixed(1)} MB JPEG, +${(growth / 1e6).toFixed(0)} MB over idle ${(idle! / 1e6).toFixed(0)} MB`,
    ratio: growth / RASTER_BYTES,
    ok: growth <= 6 * RASTER_BYTES,
    budget: "growth ≤ 6x the raster",
  };
}
