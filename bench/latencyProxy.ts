/**
 * A loopback HTTP proxy in front of the Storage emulator, in the emulator's process, for the purge
 * bench:
 * - it holds each request for `delayMs` before forwarding it: a modelled network round trip (the
 *   emulator answers in about a millisecond of CPU, a real bucket is a network hop away); waiting
 *   costs a timer, not CPU. `POST /__bench/delay?ms=N` sets it for the requests that follow;
 * - `POST /__bench/seed` with `[{ name, contentType, metadata }]` stores one-byte objects through
 *   the emulator's own upload path (what its JSON-API multipart handler calls) without HTTP: the
 *   emulator's HTTP handling is ~2 ms of CPU per upload, which made seeding 20,000 objects the
 *   slowest part of the bench. Uses firebase-tools internals (pinned 15.34.2), like
 *   local/storage-emulator.ts.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

const { EmulatorRegistry } = require("firebase-tools/lib/emulator/registry") as {
  EmulatorRegistry: { get(name: string): StorageInternals | undefined };
};

interface StorageInternals {
  uploadService: { multipartUpload(request: { bucketId: string; objectId: string; metadata: object; dataRaw: Buffer; authorization?: string }): unknown };
  adminStorageLayer: { uploadObject(upload: unknown): Promise<unknown> };
}

interface SeedObject {
  name: string;
  contentType: string;
  metadata: Record<string, string>;
}

async function seed(bucketId: string, objects: SeedObject[]): Promise<void> {
  const storage = EmulatorRegistry.get("storage");
  if (!storage) throw new Error("no Storage emulator in this process");
  for (const { name, contentType, metadata } of objects) {
    const upload = storage.uploadService.multipartUpload({ bucketId, objectId: name, metadata: { contentType, metadata }, dataRaw: Buffer.from("x") });
    await storage.adminStorageLayer.uploadObject(upload);
  }
}

export async function startLatencyProxy(targetPort: number, host = "127.0.0.1"): Promise<string> {
  let delayMs = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    if (url.pathname === "/__bench/delay") {
      delayMs = Number(url.searchParams.get("ms") ?? 0);
      return void res.end(JSON.stringify({ delayMs }));
    }
    if (url.pathname === "/__bench/seed") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seed(url.searchParams.get("bucket")!, JSON.parse(Buffer.concat(chunks).toString("utf8")) as SeedObject[]).then(
          () => res.end("{}"),
          (error: unknown) => res.writeHead(500).end(String(error)),
        );
      });
      return;
    }
    const forward = () => {
      const upstream = http.request({ host, port: targetPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (delayMs > 0) setTimeout(forward, delayMs);
    else forward();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return `${host}:${(server.address() as AddressInfo).port}`;
}
