/**
 * Child process of the stream-memory bench: streams a generated video of `size` bytes from a local
 * HTTP "provider" through the pipeline's saveTransientStream into the Storage emulator (another
 * process), sampling this process's RSS. Prints one JSON line.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const SIZE = Number(process.argv[2]);
const CHUNK = Buffer.alloc(64 * 1024, 7);
const HEAD = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12)]);

async function main() {
  const server = http.createServer((req, res) => {
    const size = Number(new URL(req.url ?? "/", "http://x").searchParams.get("size"));
    res.writeHead(200, { "content-type": "video/mp4", "content-length": String(size) });
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = sent === 0 ? Buffer.concat([HEAD, CHUNK.subarray(HEAD.length)]) : CHUNK.subarray(0, Math.min(CHUNK.length, size - sent));
        sent += piece.length;
        if (!res.write(piece)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/video.mp4`;
  const { saveTransientStream } = await import("../functions/src/storage/transientStore.js");
  const { assertVideoHead } = await import("../functions/src/jobs/videoJob.js");
  const stream = async (path: string, size: number) => {
    const res = await fetch(`${url}?size=${size}`);
    await saveTransientStream(
      path,
      res.body!,
      "video/mp4",
      { uid: "bench", jobId: "bench", kind: "results", deleteAt: String(Date.now() + 60_000) },
      { maxBytes: size + 1, checkHead: assertVideoHead },
    );
  };
  await stream("transient/results/bench/warmup", 2_000_000); // load every module and warm the sockets first
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const idle = process.memoryUsage().rss;
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const started = Date.now();
  await stream("transient/results/bench/video", SIZE);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(JSON.stringify({ idle, peak, seconds: (Date.now() - started) / 1000 }));
  server.close();
  process.exit(0);
}

void main();
