/**
 * The right to know: `exportMyData({})` → everything held about the caller, as JSON. It walks
 * `userDataLocations(uid)` (paths.ts), so every place that holds user data is exported, in pages
 * (any number of jobs or objects); Firestore Timestamps become ISO 8601 strings. Storage objects
 * are described by their metadata only: never their bytes, never a download URL. It adds what the
 * privacy policy promises to tell: the categories of data, the providers a face may go to, and
 * each provider's stated retention (providers/retention.ts).
 */
import "../admin.js";
import { FieldPath, getFirestore } from "firebase-admin/firestore";
import type { File } from "@google-cloud/storage";
import { z } from "zod";
import { getRuntimeConfig } from "../config/runtimeConfig.js";
import { parseRequest } from "../util/zodMessage.js";
import * as logs from "../logging/logs.js";
import { PROVIDER_IDS, PROVIDERS } from "../providers/catalog.js";
import { servesImages, servesVideo } from "../providers/registry.js";
import { PROVIDER_DATA_PRACTICES } from "../providers/retention.js";
import { DATA_CATEGORIES, userDataLocations, type DataCategory, type LocationKind, type UserDataLocation } from "./paths.js";
import { withRequestRecord } from "./requestRecords.js";
import { listTransientPages } from "../storage/transientStore.js";

/** `{}`; a callable sent without data arrives as null. */
export const exportRequestSchema = z.strictObject({}).nullish();

export interface ExportedLocation {
  category: DataCategory;
  /** How long it is kept, in words. */
  retention: string;
  /** What deleteMyData does with it. */
  onDelete: string;
  items: Record<string, unknown>[];
}

export interface UserDataExport {
  exportedAt: string;
  uid: string;
  /** Every category of data this backend holds about users, and whether any is held about you. */
  categories: { category: DataCategory; description: string; held: boolean }[];
  /** One entry per location of paths.ts userDataLocations, keyed by its id. */
  data: Record<string, ExportedLocation>;
  /** Where a face may go (the privacy policy's list), whether it is switched on now, and what each provider says it keeps. */
  providers: {
    id: string;
    name: string;
    serves: ("images" | "video")[];
    enabledNow: boolean;
    retention: string;
    source: string[];
  }[];
}

const PAGE_SIZE = 500;

/** Firestore values as JSON: Timestamps as ISO 8601, references as paths, bytes never (only their length). */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const v = value as { toDate?: unknown; path?: unknown; firestore?: unknown; latitude?: unknown; longitude?: unknown };
  if (typeof v.toDate === "function") return (v.toDate as () => Date).call(value).toISOString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return { bytes: value.byteLength };
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof v.path === "string" && v.firestore) return v.path; // a DocumentReference
  return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, toPlain(x)]));
}

type Exporter<K extends LocationKind> = (location: Extract<UserDataLocation, { kind: K }>) => Promise<Record<string, unknown>[]>;

/** One exporter per kind of location: a new location of a known kind is exported without new code. */
export const EXPORTERS: { [K in LocationKind]: Exporter<K> } = {
  "firestore-doc": async (location) => {
    const snap = await getFirestore().doc(location.path).get();
    return snap.exists ? [{ id: snap.id, ...(toPlain(snap.data()) as object) }] : [];
  },
  "firestore-query": async (location) => {
    const items: Record<string, unknown>[] = [];
    let cursor: FirebaseFirestore.QueryDocumentSnapshot | undefined;
    do {
      let query = getFirestore().collection(location.collection).where(location.field, "==", location.value).orderBy(FieldPath.documentId()).limit(PAGE_SIZE);
      if (cursor) query = query.startAfter(cursor);
      const snap = await query.get();
      for (const doc of snap.docs) items.push({ id: doc.id, ...(toPlain(doc.data()) as object) });
      cursor = snap.size === PAGE_SIZE ? snap.docs[snap.size - 1] : undefined;
    } while (cursor);
    return items;
  },
  "storage-prefix": async (location) => {
    const items: Record<string, unknown>[] = [];
    for await (const files of listTransientPages(location.prefix)) items.push(...files.map(describeObject));
    return items;
  },
};

/** An object's metadata as the user may see it: what it is, which job, until when. No bytes, no URL. */
function describeObject(file: File): Record<string, unknown> {
  const meta = file.metadata;
  const custom = (meta.metadata ?? {}) as Record<string, unknown>;
  const deleteAt = Number(custom.deleteAt);
  const described = {
    name: file.name,
    kind: typeof custom.kind === "string" ? custom.kind : undefined,
    jobId: typeof custom.jobId === "string" ? custom.jobId : undefined,
    contentType: meta.contentType,
    size: meta.size !== undefined ? Number(meta.size) : undefined,
    createdAt: meta.timeCreated,
    deleteAt: Number.isFinite(deleteAt) && deleteAt > 0 ? new Date(deleteAt).toISOString() : undefined,
  };
  return Object.fromEntries(Object.entries(described).filter(([, v]) => v !== undefined));
}

const exportLocation = (location: UserDataLocation) => (EXPORTERS[location.kind] as Exporter<LocationKind>)(location as never);

export async function exportMyData(uid: string, data: unknown): Promise<UserDataExport> {
  parseRequest(exportRequestSchema, data);
  return withRequestRecord(uid, { type: "know", channel: "app" }, async () => {
    const locations = userDataLocations(uid);
    const exported: Record<string, ExportedLocation> = {};
    for (const location of locations) {
      exported[location.id] = {
        category: location.category,
        retention: location.retention.text,
        onDelete: location.onDelete.action === "delete" ? "deleted by deleteMyData and when the account is deleted" : `kept: ${location.onDelete.reason}`,
        items: await exportLocation(location),
      };
    }
    const config = await getRuntimeConfig();
    const held = new Set(locations.filter((l) => exported[l.id]!.items.length > 0).map((l) => l.category));
    logs.userDataExported(Object.fromEntries(locations.map((l) => [l.id, exported[l.id]!.items.length])));
    return {
      exportedAt: new Date().toISOString(),
      uid,
      categories: (Object.keys(DATA_CATEGORIES) as DataCategory[]).map((category) => ({
        category,
        description: DATA_CATEGORIES[category],
        held: held.has(category),
      })),
      data: exported,
      providers: PROVIDER_IDS.map((id) => ({
        id,
        name: PROVIDERS[id].name,
        serves: [...(servesImages(id) ? (["images"] as const) : []), ...(servesVideo(id) ? (["video"] as const) : [])],
        enabledNow: config.enabledProviders.includes(id) && PROVIDERS[id].isConfigured(),
        retention: PROVIDER_DATA_PRACTICES[id].retention,
        source: PROVIDER_DATA_PRACTICES[id].source.map((f) => `shared/providers/${f}`),
      })),
    };
  });
}
