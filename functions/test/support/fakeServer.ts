/**
 * A wire-level fake of a provider's HTTP API on 127.0.0.1: routes answer scripted responses, every
 * request is recorded (method, path, headers, raw and parsed body) so tests can assert on what an
 * adapter sent, and faults are injected per response (status, headers, malformed body, delay,
 * hang, dropped connection). One instance per host: a second one stands for a CDN or a foreign host.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Parsed when the request was JSON. */
  json?: any;
  /** Parsed when the request was multipart/form-data. */
  form?: FormData;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
  delayMs?: number;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
  /** Close the socket without an answer. */
  drop?: boolean;
}

export type Handler = (call: RecordedCall, fake: FakeServer) => FakeResponse | Promise<FakeResponse>;

interface Route {
  method: string;
  path: string | RegExp;
  responses: (FakeResponse | Handler)[];
  /** The last response repeats once the script runs out. */
}

export class FakeServer {
  readonly calls: RecordedCall[] = [];
  private routes: Route[] = [];
  private readonly sockets = new Set<import("node:net").Socket>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeServer> {
    let fake!: FakeServer;
    const server = http.createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake = new FakeServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("connection", (s) => (fake.sockets.add(s), s.on("close", () => fake.sockets.delete(s))));
    return fake;
  }

  get host() {
    return new URL(this.url).host;
  }

  /** Scripts a route: successive calls get successive responses; the last one repeats. */
  on(method: string, path: string | RegExp, ...responses: (FakeResponse | Handler)[]): this {
    this.routes = this.routes.filter((r) => !(r.method === method && String(r.path) === String(path)));
    this.routes.push({ method, path, responses });
    return this;
  }

  callsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && (typeof path === "string" ? c.path === path : path.test(c.path)));
  }

  reset(): void {
    this.calls.length = 0;
    this.routes = [];
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", this.url);
    const call: RecordedCall = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
    const type = req.headers["content-type"] ?? "";
    if (type.includes("json")) call.json = safeJson(call.body);
    if (type.startsWith("multipart/form-data")) call.form = await new Response(call.body, { headers: { "content-type": type } }).formData();
    this.calls.push(call);

    const route = this.routes.find((r) => r.method === call.method && (typeof r.path === "string" ? r.path === call.path : r.path.test(call.path)));
    if (!route) return send(res, { status: 404, json: { error: "no such route in the fake" } });
    const served = this.calls.filter(
      (c) => c !== call && route === this.routes.find((r) => r.method === c.method && (typeof r.path === "string" ? r.path === c.path : r.path.test(c.path))),
    ).length;
    const next = route.responses[Math.min(served, route.responses.length - 1)];
    if (!next) return send(res, { status: 500, json: { error: "route scripted with no response" } });
    const response = typeof next === "function" ? await next(call, this) : next;
    if (response.delayMs) await new Promise((r) => setTimeout(r, response.delayMs));
    if (response.hang) return; // the socket is destroyed by close()
    if (response.drop) return void req.socket.destroy();
    send(res, response);
  }
}

function send(res: http.ServerResponse, r: FakeResponse) {
  const body = r.json !== undefined ? JSON.stringify(r.json) : (r.body ?? "");
  const headers = { ...(r.json !== undefined && { "content-type": "application/json" }), ...r.headers };
  res.writeHead(r.status ?? 200, headers);
  res.end(body);
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Fails if any recorded request carried one of the given credentials (for hosts that must not see them). */
export function assertNoCredentialSent(fake: FakeServer, credentials: string[]): void {
  for (const call of fake.calls) {
    const wire = JSON.stringify(call.headers) + call.body.toString("latin1") + call.query.toString();
    for (const c of credentials) if (wire.includes(c)) throw new Error(`a credential was sent to ${fake.url}${call.path}`);
  }
}
