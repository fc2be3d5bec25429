/**
 * The only code that writes or deletes face-bearing objects in Cloud Storage. Every object it
 * writes carries `{ uid, jobId, kind, deleteAt }` so the scheduled purge can remove it on its own.
 */
import "../admin.js";
import { getStorage } from "firebase-admin/storage";
import * as logs from "../logging/logs.js";
import { errorSummary } from "../logging/redact.js";
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

export async function readTransient(path: string): Promise<{ bytes: Buffer; metadata: Partial<TransientMetadata>; contentType?: string } | undefined> {
  const file = transientBucket().file(path);
  try {
    const [[bytes], [metadata]] = await Promise.all([file.download(), file.getMetadata()]);
    return { bytes, metadata: (metadata.metadata ?? {}) as Partial<TransientMetadata>, contentType: metadata.contentType };
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
