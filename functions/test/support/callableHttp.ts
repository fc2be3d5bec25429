/**
 * Serves a callable's HTTP handler (the `(req, res)` function `onCall` returns, not `.run`) on
 * 127.0.0.1, so a test reaches everything the SDK does before our handler: CORS, the request
 * checks, token checks and `decode()`. The request and response get the few Express methods the
 * SDK uses (`req.header`, `res.status`, `res.send`) and the body is parsed the way the Functions
 * framework's body parser does: JSON for application/json (a 400 if it does not parse), text for
 * text/*, the raw bytes otherwise.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

export interface CallableServer {
  url: string;
  close(): Promise<void>;
}

export async function serveCallable(fn: unknown): Promise<CallableServer> {
  const handler = fn as Handler;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks);
      const type = String(req.headers["content-type"] ?? "")
        .split(";")[0]!
        .trim()
        .toLowerCase();
      let body: unknown = rawBody;
      if (type === "application/json") {
        try {
          body = rawBody.length ? JSON.parse(rawBody.toString("utf8")) : {};
        } catch {
          res.statusCode = 400;
          res.end("Bad Request");
          return;
        }
      } else if (type.startsWith("text/")) body = rawBody.toString("utf8");
      Object.assign(req, { body, rawBody, header: (name: string) => req.headers[name.toLowerCase()] });
      Object.assign(res, {
        status(code: number) {
          res.statusCode = code;
          return res;
        },
        send(payload: unknown) {
          if (typeof payload !== "string" && !Buffer.isBuffer(payload)) {
            res.setHeader("Content-Type", "application/json; charset=utf-8");
            payload = JSON.stringify(payload);
          }
          res.end(payload);
          return res;
        },
      });
      void handler(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface CallableAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON answer (undefined if it is not JSON). */
  json?: { result?: unknown; error?: { status: string; message: string; details?: Record<string, unknown> } };
}

/** POSTs a raw body (a string is sent as is; anything else as JSON) with the given headers. */
export async function postCallable(url: string, body: unknown, headers: Record<string, string> = {}, method = "POST"): Promise<CallableAnswer> {
  const res = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    ...(method === "POST" || method === "PUT" ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: CallableAnswer["json"];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json };
}

/** `{"a":{"a":…}}` (or `[[…]]`) nested `levels` deep, as a JSON string: never built as an object. */
export function nestedJson(levels: number, kind: "object" | "array" = "object", leaf = "1"): string {
  return kind === "object" ? '{"a":'.repeat(levels) + leaf + "}".repeat(levels) : "[".repeat(levels) + leaf + "]".repeat(levels);
}

/** A compact JWT with the given header and payload, UNSIGNED (`signature` is any base64url text). */
export function forgedJwt(header: Record<string, unknown>, payload: unknown, signature = "c2lnbmF0dXJl"): string {
  const segment = (part: unknown) => Buffer.from(typeof part === "string" ? part : JSON.stringify(part)).toString("base64url");
  return `${segment(header)}.${segment(payload)}.${signature}`;
}
