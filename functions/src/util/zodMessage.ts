import type { z } from "zod";
import { AppError } from "../errors.js";

/**
 * Parses a client's request with its schema: the one place a bad request becomes
 * `invalid-argument` / `request-invalid`, with a message naming our field (never the value).
 */
export function parseRequest<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new AppError("invalid-argument", zodMessage(parsed.error, data), "request-invalid");
  return parsed.data;
}

/**
 * Turns a zod error into a message that names OUR field and what is wrong with it, and never holds
 * anything the client typed: not the submitted value (it may be a face photo's base64 or a prompt),
 * and not a key the client invented (an unknown field, a record key under `options`). The message
 * is shown to the client and may be stored in a job's `error.message` (PRIVACY.md promise 19).
 */
export function zodMessage(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return "request is invalid";
  const field = fieldOf(issue.path);
  if (issue.code === "unrecognized_keys") {
    return `${field}: unknown field${issue.keys.length > 1 ? "s" : ""} (only the documented fields are accepted)`;
  }
  if (issue.code === "invalid_key") {
    return `${field}: invalid key (letters, digits and _, starting with a letter, at most 40)`;
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
 * The field a message names: the top-level one. Every request schema is a strict object, so a
 * top-level path segment is always one of our field names (a client's unknown key is reported as
 * `unrecognized_keys`, never as a path). Deeper segments can be keys the client chose (`options`
 * is a record), so they are not shown.
 */
function fieldOf(path: PropertyKey[]): string {
  const first = path[0];
  return typeof first === "string" && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(first) ? first : "request";
}
