/**
 * The demo web console that `npm start` serves beside the stack: a static page (web/) that talks to
 * the Auth and Functions emulators through the public callable contract only (no admin SDK, no
 * backdoor). This server only hands out files:
 *   /, /app.js, /style.css, …   web/ (names listed at start, read on each request so edits show on
 *                               reload; nothing else on disk is reachable)
 *   /config.js                  generated per load: emulator addresses, region, policy version, and
 *                               the providers config/runtime enables (read by the caller's function)
 *   /vendor/firebase-*.js       the Firebase JS SDK's browser ESM builds from node_modules; their
 *                               one CDN import is pointed at the local copy (we are offline)
 * Every answer carries a Content-Security-Policy that lets the page reach only itself and the
 * emulators, so a stray third-party request shows up as a console error (the browser test fails on it).
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { ROOT } from "./stack";

const WEB_DIR = path.join(ROOT, "web");
const FIREBASE_DIR = path.join(ROOT, "node_modules", "firebase");
const VENDOR_MODULES = ["firebase-app", "firebase-auth", "firebase-functions"] as const;
/** The version-pinned CDN address the SDK's browser builds import the app module from. */
const CDN_APP_IMPORT = /https:\/\/www\.gstatic\.com\/firebasejs\/[0-9.]+\/firebase-app\.js/g;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The consent text the page shows is for this version of the privacy policy. */
export const POLICY_VERSION = "2026-11";

export interface WebConsoleOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  projectId: string;
  region?: string;
  ports: { auth: number; functions: number; storage: number };
  /** Which providers the functions accept now, and each feature's default (config/runtime). */
  providerChoices: () => Promise<{ enabledProviders: string[]; defaults: Partial<Record<string, { provider: string }>> }>;
}

export interface WebConsole {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Everything the page needs to know about this stack, as an ES module. */
async function pageConfig(o: WebConsoleOptions) {
  const [{ PROVIDERS, PROVIDER_IDS }, { servesImages, servesVideo }, { STYLE_PROMPTS }, { LOCAL_EDIT_KEYWORDS, LOCAL_STYLE_PRESETS }, { FEATURES }, choices] =
    await Promise.all([
      import("../functions/src/providers/catalog.js"),
      import("../functions/src/providers/registry.js"),
      import("../functions/src/providers/prompts.js"),
      import("../functions/src/providers/local/effects.js"),
      import("../functions/src/domain/features.js"),
      o.providerChoices(),
    ]);
  return {
    projectId: o.projectId,
    apiKey: "fake-api-key", // the Auth emulator accepts any key
    region: o.region ?? "us-central1",
    authEmulatorUrl: `http://${o.host}:${o.ports.auth}`,
    functionsEmulator: { host: o.host, port: o.ports.functions },
    uploadUrl: `http://${o.host}:${o.ports.functions}/${o.projectId}/${o.region ?? "us-central1"}/uploadImage`,
    policyVersion: POLICY_VERSION,
    features: FEATURES,
    /** Presets the AI providers share (providers/prompts.ts); the local provider has its own subset. */
    styles: Object.keys(STYLE_PROMPTS),
    localStyles: LOCAL_STYLE_PRESETS,
    localEditKeywords: LOCAL_EDIT_KEYWORDS,
    providers: PROVIDER_IDS.map((id) => ({
      id,
      name: PROVIDERS[id].name,
      images: servesImages(id),
      video: servesVideo(id),
      enabled: choices.enabledProviders.includes(id),
    })),
    defaults: Object.fromEntries(Object.entries(choices.defaults).map(([feature, choice]) => [feature, choice?.provider])),
  };
}

function vendorModules(): Map<string, string> {
  const modules = new Map<string, string>();
  for (const name of VENDOR_MODULES) {
    const source = readFileSync(path.join(FIREBASE_DIR, `${name}.js`), "utf8");
    const local = source.replace(CDN_APP_IMPORT, "./firebase-app.js");
    if (name !== "firebase-app" && local === source) throw new Error(`${name}.js no longer imports firebase-app from the CDN address this server rewrites`);
    if (/https:\/\/www\.gstatic\.com\/firebasejs\//.test(local)) throw new Error(`${name}.js still imports from the CDN`);
    // Its source map is not served: drop the reference, so the browser asks for nothing missing.
    modules.set(`/vendor/${name}.js`, local.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
  }
  return modules;
}

export async function startWebConsole(o: WebConsoleOptions): Promise<WebConsole> {
  const pages = new Map<string, { body: () => Buffer | string; type: string }>();
  for (const file of readdirSync(WEB_DIR)) {
    const type = CONTENT_TYPES[path.extname(file)];
    if (type) pages.set(`/${file}`, { body: () => readFileSync(path.join(WEB_DIR, file)), type });
  }
  pages.set("/", pages.get("/index.html")!);
  for (const [url, body] of vendorModules()) pages.set(url, { body: () => body, type: CONTENT_TYPES[".js"]! });

  const emulators = [o.ports.auth, o.ports.functions, o.ports.storage].map((p) => `http://${o.host}:${p}`).join(" ");
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ${emulators}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

  const send = (res: ServerResponse, status: number, type: string, body: Buffer | string) => {
    res.writeHead(status, {
      "Content-Type": type,
      "Content-Security-Policy": csp,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain", "GET only\n");
    const url = new URL(req.url ?? "/", "http://localhost").pathname;
    if (url === "/config.js") {
      return send(res, 200, CONTENT_TYPES[".js"]!, `export default ${JSON.stringify(await pageConfig(o), null, 2)};\n`);
    }
    const page = pages.get(url);
    if (!page) return send(res, 404, "text/plain", "not found\n");
    send(res, 200, page.type, page.body());
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error("[web] request failed:", err);
      if (!res.headersSent) send(res, 500, "text/plain", "internal error\n");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${o.host}:${port}/`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
