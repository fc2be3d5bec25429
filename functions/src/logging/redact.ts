/**
 * Reduces any thrown value to a name and a code that are safe to log: provider and library error
 * messages can quote request bodies, URLs with signatures, or tokens, so their text is never logged.
 */
export function errorSummary(error: unknown): { errorName: string; errorCode: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { errorName: error.name.slice(0, 60), errorCode: typeof code === "string" || typeof code === "number" ? String(code).slice(0, 60) : "none" };
  }
  return { errorName: typeof error, errorCode: "none" };
}

/**
 * The one redaction layer every log line, every error message sent to a client and every error
 * stored in a job passes through. Those texts are written by us and carry ids and codes only;
 * this is the second line, for the day one of them carries more than it should: URLs (signed,
 * provider or gs://), bearer tokens and JWTs, API keys, and long base64 runs (image data) are
 * replaced by a marker, and long strings are cut.
 */
const REDACTIONS: [RegExp, string][] = [
  [/\b(?:https?|gs|wss?):\/\/[^\s"'<>)\]]+/gi, "[url]"],
  [/\bdata:[a-z]+\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]*/gi, "[data]"],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer [token]"],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[token]"],
  [/\b(?:sk|pk|rk|key)[-_][A-Za-z0-9_-]{16,}/g, "[key]"],
  // 48+ characters of base64 alphabet (with a digit or +/ in it): image data or a secret. Ids we
  // log (40-hex job ids, UUIDs, upload ids) are shorter.
  [/[A-Za-z0-9+/_-]{48,}={0,2}/g, "[data]"],
];
const MAX_TEXT = 500;

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, marker] of REDACTIONS) out = out.replace(pattern, marker);
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…` : out;
}

/** Redacts every string in a log entry's fields, at any depth (numbers and booleans pass as they are). */
export function redactFields<T>(value: T): T {
  if (typeof value === "string") return redactText(value) as T;
  if (Array.isArray(value)) return value.map(redactFields) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactFields(v)])) as T;
  }
  return value;
}
