/**
 * The only code that writes or deletes face-bearing objects in Cloud Storage. Every object it
 * writes carries `{ uid, jobId, kind, deleteAt }` so the scheduled purge can remove it on its own.
 */
import "../admin.js";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { getStorage } from "firebase-admin/storage";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
import type { File } from "@google-cloud/storage";
import { mapWithConcurrency } from "../util/concurrency.js";
import type { TransientMetadata } from "./paths.js";

export const transientBucket = () => getStorage().bucket();

export async function saveTransient(path: string, bytes: Uint8Array, contentType: string, meta: TransientMetadata): Promise<void> {
  await transientBucket()
    .file(path)
    .save(Buffer.from(bytes), {
      resumable: false,
      contentType,
      metadata: { cacheControl: "private, no-store", metadata: meta },
    });
}

/** An object's bytes, custom metadata, type and Storage's own creation time (epoch ms; no writer sets it). */
export async function readTransient(
  path: string,
): Promise<{ bytes: Buffer; metadata: Partial<TransientMetadata>; contentType?: string; createdAt?: number } | undefined> {
  const file = transientBucket().file(path);
  try {
    const [[bytes], [metadata]] = await Promise.all([file.download(), file.getMetadata()]);
    const createdAt = Date.parse(String(metadata.timeCreated ?? ""));
    return {
      bytes,
      metadata: (metadata.metadata ?? {}) as Partial<TransientMetadata>,
      contentType: metadata.contentType,
      ...(Number.isFinite(createdAt) && { createdAt }),
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * An object's size and first `headBytes` bytes, without reading the rest (admission control sizes
 * an upload this way before taking it); undefined if it does not exist or is not the caller's.
 */
export async function readTransientHead(path: string, headBytes: number, uid?: string): Promise<{ head: Buffer; size: number } | undefined> {
  const file = transientBucket().file(path);
  try {
    const [[head], [metadata]] = await Promise.all([file.download({ start: 0, end: headBytes - 1 }), file.getMetadata()]);
    if (uid !== undefined && (metadata.metadata as Partial<TransientMetadata> | undefined)?.uid !== uid) return undefined;
    return { head, size: Number(metadata.size ?? head.length) };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Deletes one object; a 404 counts as done. Returns whether an object was removed. */
export async function deleteTransient(path: string): Promise<boolean> {
  try {
    await transientBucket().file(path).delete();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Deletes one object where a failure must not stop the caller: it is logged, and the purge is the backstop. */
export async function deleteTransientOrLeaveToPurge(path: string, jobId?: string): Promise<void> {
  await deleteTransient(path).catch((error: unknown) => logs.transientDeleteFailed(jobId, errorSummary(error).errorCode));
}

/**
 * Deletes every object under the given prefixes and returns how many went. Failures are logged
 * (the purge is the backstop) and rethrown so the caller does not claim the input is gone.
 */
export async function deleteTransientPrefixes(prefixes: string[], jobId?: string): Promise<number> {
  let deleted = 0;
  for (const prefix of prefixes) {
    try {
      const [files] = await transientBucket().getFiles({ prefix });
      const removed = await Promise.all(files.map((f) => deleteTransient(f.name)));
      deleted += removed.filter(Boolean).length;
    } catch (error) {
      logs.transientDeleteFailed(jobId, errorSummary(error).errorCode);
      throw error;
    }
  }
  return deleted;
}

export function isNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; response?: { statusCode?: number } };
  return e?.code === 404 || e?.response?.statusCode === 404;
}

/** A streamed (resumable) write of a transient object: one session, never a whole body in memory. */
export function openTransientWriteStream(path: string, contentType: string, meta: TransientMetadata) {
  return transientBucket()
    .file(path)
    .createWriteStream({ resumable: true, contentType, metadata: { cacheControl: "private, no-store", metadata: meta } });
}

/**
 * Streams a result into a transient object without buffering it: `check` sees the first bytes
 * (type sniffing) and the byte count is capped. A failed or refused stream leaves no object.
 */
export async function saveTransientStream(
  path: string,
  body: ReadableStream<Uint8Array>,
  contentType: string,
  meta: TransientMetadata,
  limits: { maxBytes: number; checkHead: (head: Uint8Array) => void },
): Promise<number> {
  const out = openTransientWriteStream(path, contentType, meta);
  let total = 0;
  let head: Uint8Array | undefined;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.byteLength;
      if (total > limits.maxBytes) return done(new TransientLimitError("too-large"));
      if (!head) {
        head = chunk;
        try {
          limits.checkHead(chunk);
        } catch (error) {
          return done(error as Error);
        }
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), counter, out);
    return total;
  } catch (error) {
    await deleteTransient(path).catch(() => undefined);
    throw error;
  }
}

export class TransientLimitError extends Error {
  constructor(readonly reason: "too-large") {
    super(reason);
    this.name = "TransientLimitError";
  }
}

/**
 * Copies an object within the bucket (a provider wrote it under our prefix) and sets the copy's
 * metadata. The source stays: if this fails halfway a retry can adopt it again, so the caller
 * deletes it once the copy is recorded (a move would lose the only copy to a failed second step).
 */
export async function adoptTransient(from: string, to: string, contentType: string, meta: TransientMetadata): Promise<void> {
  await transientBucket().file(from).copy(to);
  await transientBucket()
    .file(to)
    .setMetadata({ contentType, cacheControl: "private, no-store", metadata: { ...meta } });
}

/**
 * A short-lived URL the owner's app downloads a held result from. Production signs a V4 URL with
 * the function's service account; the offline Storage emulator has no signer, so there the URL is
 * the emulator's own download path (the emulator checks no signature anyway).
 */
export async function signedReadUrl(path: string, minutes: number): Promise<{ url: string; expiresAt: number }> {
  const expiresAt = Date.now() + minutes * 60_000;
  const emulator = process.env.FIREBASE_STORAGE_EMULATOR_HOST;
  if (emulator) {
    const bucket = transientBucket().name;
    return { url: `http://${emulator}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(path)}?alt=media`, expiresAt };
  }
  const [url] = await transientBucket().file(path).getSignedUrl({ version: "v4", action: "read", expires: expiresAt });
  return { url, expiresAt };
}

/** Every object under a prefix, one page at a time (any number of objects, bounded memory). */
export async function* listTransientPages(prefix: string, pageSize = 1000): AsyncGenerator<File[]> {
  let pageToken: string | undefined;
  do {
    const [files, next] = await transientBucket().getFiles({ prefix, maxResults: pageSize, autoPaginate: false, ...(pageToken && { pageToken }) });
    pageToken = (next as { pageToken?: string } | undefined)?.pageToken;
    if (files.length) yield files;
  } while (pageToken);
}

/**
 * Deletes every object under a prefix, page by page with bounded concurrency (deletion of a user's
 * data: any number of objects). A 404 counts as done; returns how many objects were removed.
 */
export async function deleteTransientPrefixPaged(prefix: string, concurrency = 32, pageSize = 1000): Promise<number> {
  let deleted = 0;
  // Always the first page again: a page token past objects just deleted is not reliable everywhere.
  for (;;) {
    const [files] = await transientBucket().getFiles({ prefix, maxResults: pageSize, autoPaginate: false });
    if (!files.length) return deleted;
    const removed = (await mapWithConcurrency(files, concurrency, (f) => deleteTransient(f.name))).filter(Boolean).length;
    deleted += removed;
    if (!removed) return deleted; // listed but already gone everywhere: nothing left to do
  }
}
