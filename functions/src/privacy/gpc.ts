/**
 * Global Privacy Control: a browser or device sends `Sec-GPC: 1` on every request to say "do not
 * sell or share my data" (CCPA regulations §7025 make it a valid opt-out). Tiny and pure on
 * purpose: the callable wrapper and uploadImage read it on every request.
 */
import type { IncomingHttpHeaders } from "node:http";

/** True for `Sec-GPC: 1` (the only value the spec defines; anything else is no signal). */
export function sendsGpc(headers: IncomingHttpHeaders | undefined): boolean {
  const value = headers?.["sec-gpc"];
  return (Array.isArray(value) ? value : [value]).some((v) => typeof v === "string" && v.trim() === "1");
}
