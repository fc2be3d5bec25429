import type { z } from "zod";

/**
 * Turns a zod error into a message that names the field and what is wrong with it, without ever
 * quoting the submitted value (it may be a face photo's base64 or a prompt).
 */
export function zodMessage(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return "request is invalid";
  const field = issue.path.length ? issue.path.map(segment).join(".") : "request";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => k.replace(/[^\w.-]/g, "?").slice(0, 40)).slice(0, 5);
    return `${field}: unexpected field${keys.length > 1 ? "s" : ""} ${keys.join(", ")}`;
  }
  if (issue.code === "invalid_key") {
    // The key itself is client text (a record key): name the record, never the key.
    const record = issue.path.length > 1 ? issue.path.slice(0, -1).map(segment).join(".") : "request";
    return `${record}: invalid key (letters, digits and _, starting with a letter, at most 40)`;
  }
  if (valueAt(input, issue.path) === undefined) return `${field}: required`;
  if (issue.code === "invalid_type") return `${field}: expected ${issue.expected}`;
  return `${field}: ${issue.message}`;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/**
 * A path segment as shown to the client: our own field names and array indices pass; any other
 * key (a client-chosen record key) is replaced, so no client text reaches the message.
 */
function segment(key: PropertyKey): string {
  if (typeof key === "number") return String(key);
  return typeof key === "string" && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(key) ? key : "?";
}
