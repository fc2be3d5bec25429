/**
 * Every provider's base URL can be overridden by `<PROVIDER>_BASE_URL` (regions, proxies, tests).
 * Only https is allowed, except loopback hosts used by the local fakes: face data travels over TLS.
 */
export function providerBaseUrl(providerId: string, defaultUrl: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = `${providerId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_BASE_URL`;
  const raw = env[name]?.trim();
  if (!raw) return defaultUrl;
  const url = new URL(raw);
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new Error(`${name} must be an https URL (plain http only for loopback test servers)`);
  }
  return raw.replace(/\/+$/, "");
}
