/**
 * Offline Firestore: the in-memory store of `@firestore-emulator/server` behind our own gRPC
 * service, so that the real `firebase-admin` client (FIRESTORE_EMULATOR_HOST) works over the wire.
 *
 * Why our own service instead of the package's `FirestoreServer`: the package's service uses one
 * constant transaction id and no concurrency control (two racing transactions both "win"),
 * commits are not atomic, and BatchWrite / ListDocuments / ListCollectionIds are missing.
 * We keep its document store (`FirestoreState`) and fix the gaps here:
 *  - transactions: unique ids + optimistic concurrency (a commit whose read set changed since it
 *    was read fails with ABORTED, which the admin SDK retries, like a real lock conflict);
 *  - commits are atomic (all writes roll back if one precondition fails) and update_time
 *    preconditions are checked;
 *  - queries re-implemented: nested field paths, all filter operators (incl. IS_NULL, nested
 *    AND/OR), Firestore type ordering, implicit `__name__` ordering, cursors, offset, limit,
 *    collection-group queries; count/sum/avg aggregations;
 *  - field transforms re-implemented (the package drops all but the first serverTimestamp /
 *    arrayUnion of a write, fails arrayUnion on a missing field, ignores nested paths) and
 *    `FieldValue.delete()` actually deletes; a set() without merge replaces the document (the
 *    package merged it into the old fields);
 *  - added BatchWrite (BulkWriter), ListDocuments, ListCollectionIds.
 * Not implemented (gRPC UNIMPLEMENTED): GetDocument, CreateDocument, UpdateDocument,
 * DeleteDocument (REST-style single-doc RPCs, unused by the admin SDK), Write, PartitionQuery.
 *
 * One port serves both gRPC (HTTP/2) and a small HTTP/1.1 API like the official emulator's:
 *   GET  /                                                         -> "Ok" (readiness)
 *   DELETE /emulator/v1/projects/{p}/databases/{db}/documents      -> clear that project
 */
import * as http from "node:http";
import * as net from "node:net";
import { randomBytes } from "node:crypto";
import { Server, ServerCredentials, status as Status } from "@grpc/grpc-js";
import type { ServerDuplexStream, ServerUnaryCall, ServerWritableStream, sendUnaryData } from "@grpc/grpc-js";
import { FirestoreState, FirestoreStateDocument } from "@firestore-emulator/server";
import {
  BatchGetDocumentsResponse,
  BatchWriteResponse,
  BeginTransactionResponse,
  CommitResponse,
  ListCollectionIdsResponse,
  ListDocumentsResponse,
  RunAggregationQueryResponse,
  RunQueryResponse,
  UnimplementedFirestoreService,
} from "@firestore-emulator/proto/dist/google/firestore/v1/firestore";
import { Value } from "@firestore-emulator/proto/dist/google/firestore/v1/document";
import { Write } from "@firestore-emulator/proto/dist/google/firestore/v1/write";
import { Empty } from "@firestore-emulator/proto/dist/google/protobuf/empty";

export interface LocalFirestore {
  host: string;
  port: number;
  /** "127.0.0.1:8080": the value for FIRESTORE_EMULATOR_HOST. */
  hostPort: string;
  /** The underlying in-memory store (`state.toJSON()` is handy for snapshots/debugging). */
  state: FirestoreState;
  /**
   * Billable operations since the last reset, counted as Firestore bills them: one read per
   * document got (found or not) or returned by a query (at least one per query), one per 1,000
   * index entries of an aggregation, one write per document write committed.
   */
  usage(): Usage;
  /** Delete all data (of one project, or of all projects), and zero the usage. Synchronous, in-process. */
  reset(projectId?: string): void;
  /**
   * Fault injection (the load harness's chaos run): while true every gRPC call fails UNAVAILABLE,
   * as Firestore does during an outage; data is kept and served again once set back to false.
   */
  setUnavailable(unavailable: boolean): void;
  stop(): Promise<void>;
}

export interface Usage {
  reads: number;
  writes: number;
}

type Doc = FirestoreStateDocument;
// Private members of the store that we need (plain JS properties at runtime).
type DocInternals = { fields: Record<string, Field>; collections: Record<string, Coll> };
type Coll = { name: string; getAllDocuments(): Doc[] };
type Field = { type: string; value: unknown; toV1ValueObject(): object };

// ---------------------------------------------------------------------------------------------
// Values: compare/convert protobuf `Value`s with Firestore's ordering.

const TYPE_ORDER: Record<string, number> = {
  null_value: 0,
  boolean_value: 1,
  integer_value: 2,
  double_value: 2,
  timestamp_value: 3,
  string_value: 4,
  bytes_value: 5,
  reference_value: 6,
  geo_point_value: 7,
  array_value: 8,
  map_value: 9,
};
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const num = (v: Value) => (v.value_type === "integer_value" ? Number(v.integer_value) : v.double_value);

function compareValues(a: Value, b: Value): number {
  const ta = a.value_type;
  const tb = b.value_type;
  const byType = TYPE_ORDER[ta] - TYPE_ORDER[tb];
  if (byType !== 0) return sign(byType);
  switch (ta) {
    case "null_value":
      return 0;
    case "boolean_value":
      return sign(Number(a.boolean_value) - Number(b.boolean_value));
    case "integer_value":
    case "double_value": {
      const x = num(a),
        y = num(b);
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
      return sign(x - y);
    }
    case "timestamp_value":
      return sign(Number(a.timestamp_value.seconds) - Number(b.timestamp_value.seconds)) || sign(a.timestamp_value.nanos - b.timestamp_value.nanos);
    case "string_value":
      return Buffer.compare(Buffer.from(a.string_value), Buffer.from(b.string_value));
    case "reference_value": {
      // segment by segment: "users" < "users\0" < "users/x"
      const x = a.reference_value.split("/"),
        y = b.reference_value.split("/");
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = Buffer.compare(Buffer.from(x[i]), Buffer.from(y[i]));
        if (c) return c;
      }
      return sign(x.length - y.length);
    }
    case "bytes_value":
      return Buffer.compare(Buffer.from(a.bytes_value), Buffer.from(b.bytes_value));
    case "geo_point_value":
      return sign(a.geo_point_value.latitude - b.geo_point_value.latitude) || sign(a.geo_point_value.longitude - b.geo_point_value.longitude);
    case "array_value": {
      const x = a.array_value.values,
        y = b.array_value.values;
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c) return c;
      }
      return sign(x.length - y.length);
    }
    case "map_value": {
      const x = [...a.map_value.fields.entries()].sort(([k1], [k2]) => (k1 < k2 ? -1 : 1));
      const y = [...b.map_value.fields.entries()].sort(([k1], [k2]) => (k1 < k2 ? -1 : 1));
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = (x[i][0] < y[i][0] ? -1 : x[i][0] > y[i][0] ? 1 : 0) || compareValues(x[i][1], y[i][1]);
        if (c) return c;
      }
      return sign(x.length - y.length);
    }
    default:
      return 0;
  }
}
const eqValues = (a: Value, b: Value) => compareValues(a, b) === 0 && !(a.value_type === "double_value" && Number.isNaN(a.double_value));

function fieldValue(doc: Doc, path: string): Value | undefined {
  if (path === "__name__") return Value.fromObject({ reference_value: doc.getPath() });
  const f = doc.getField(path) as unknown as Field | undefined;
  return f ? Value.fromObject(f.toV1ValueObject() as never) : undefined;
}

// The store's field classes are not exported (and `instanceof` checks inside it need its own
// classes), so we convert a protobuf value into a store field by writing it into a scratch store.
const scratch = new FirestoreState();
const SCRATCH_DOC = "projects/_/databases/_/documents/_/_";
function toField(value: Value): Field {
  scratch.writeV1Document(new Date(), Write.fromObject({ update: { name: SCRATCH_DOC, fields: { v: plain(value) } } } as never));
  return scratch.getDocument(SCRATCH_DOC).getField("v") as unknown as Field;
}

// `Value.toObject()` emits every oneof member with its default, so we serialise by hand.
function plain(v: Value): object {
  switch (v.value_type) {
    case "array_value":
      return { array_value: { values: v.array_value.values.map(plain) } };
    case "map_value":
      return { map_value: { fields: Object.fromEntries([...v.map_value.fields].map(([k, x]) => [k, plain(x)])) } };
    case "timestamp_value":
      return { timestamp_value: { seconds: v.timestamp_value.seconds, nanos: v.timestamp_value.nanos } };
    case "geo_point_value":
      return { geo_point_value: { latitude: v.geo_point_value.latitude, longitude: v.geo_point_value.longitude } };
    default:
      return { [v.value_type]: (v as unknown as Record<string, unknown>)[v.value_type] };
  }
}

// Field paths: `a.b.c`, with backtick-quoted segments for keys containing dots.
function splitPath(path: string): string[] {
  return (path.match(/`(?:[^`\\]|\\.)*`|[^.]+/g) ?? []).map((s) => (s.startsWith("`") ? s.slice(1, -1) : s));
}

// ---------------------------------------------------------------------------------------------
// Patches to the store's document class (applied once per process).

function patchDocumentClass() {
  const proto = FirestoreStateDocument.prototype as unknown as Record<string, unknown> & { __patched?: boolean };
  if (proto.__patched) return;
  proto.__patched = true;

  // Nested field paths ("a.b") for queries/transforms; the package throws "Not implemented".
  proto.getField = function (this: DocInternals, path: string) {
    let cur: Field | undefined;
    let fields: Record<string, Field> | undefined = this.fields;
    for (const seg of splitPath(path)) {
      cur = fields?.[seg];
      fields = cur?.type === "map_value" ? (cur.value as Record<string, Field>) : undefined;
    }
    return cur;
  };

  // FieldValue.delete() arrives as a path in the update mask that is absent from the fields;
  // the package leaves such fields in place.
  const deletePath = (fields: Record<string, Field>, segs: string[]): Record<string, Field> => {
    const [head, ...rest] = segs;
    if (!(head in fields)) return fields;
    const { [head]: cur, ...others } = fields;
    if (rest.length === 0) return others;
    if (cur.type !== "map_value") return fields;
    const Ctor = cur.constructor as new (v: Record<string, Field>) => Field;
    return { ...others, [head]: new Ctor(deletePath(cur.value as Record<string, Field>, rest)) };
  };
  const hasPath = (fields: Record<string, Field>, segs: string[]): boolean => {
    const cur = fields[segs[0]];
    if (!cur) return false;
    return segs.length === 1 || (cur.type === "map_value" && hasPath(cur.value as Record<string, Field>, segs.slice(1)));
  };
  for (const method of ["update", "set"] as const) {
    const original = proto[method] as (date: Date, fields: Record<string, Field>, mask?: string[]) => void;
    proto[method] = function (this: DocInternals, date: Date, fields: Record<string, Field>, mask: string[] = []) {
      original.call(this, date, fields, mask);
      for (const path of mask) {
        const segs = splitPath(path);
        if (!hasPath(fields, segs)) this.fields = deletePath(this.fields, segs);
      }
    };
  }

  // Field transforms, re-implemented on protobuf values (see file header for why).
  proto.v1Transform = function (this: Doc, date: Date, transforms: Write["update_transforms"]) {
    for (const t of transforms) {
      const cur = fieldValue(this, t.field_path);
      let next: Value;
      if (t.has_increment || t.has_maximum || t.has_minimum) {
        const operand = t.has_increment ? t.increment : t.has_maximum ? t.maximum : t.minimum;
        const isNum = (v?: Value) => v?.value_type === "integer_value" || v?.value_type === "double_value";
        if (!isNum(cur)) next = operand;
        else if (t.has_increment) {
          const sum = num(cur!) + num(operand);
          const ints = cur!.value_type === "integer_value" && operand.value_type === "integer_value";
          next = Value.fromObject(ints ? { integer_value: sum } : { double_value: sum });
        } else {
          const c = compareValues(operand, cur!);
          next = (t.has_maximum ? c > 0 : c < 0) ? operand : cur!;
        }
      } else if (t.has_append_missing_elements || t.has_remove_all_from_array) {
        const existing = cur?.value_type === "array_value" ? cur.array_value.values : [];
        const values = t.has_append_missing_elements
          ? existing.concat(
              t.append_missing_elements.values.filter((v, i, all) => !existing.some((e) => eqValues(e, v)) && all.findIndex((o) => eqValues(o, v)) === i),
            )
          : existing.filter((e) => !t.remove_all_from_array.values.some((v) => eqValues(e, v)));
        next = Value.fromObject({ array_value: { values: values.map(plain) } } as never);
      } else if (t.has_set_to_server_value) {
        const ms = date.getTime();
        next = Value.fromObject({ timestamp_value: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } });
      } else {
        throw Object.assign(new Error(`unsupported transform on ${t.field_path}`), { code: Status.INVALID_ARGUMENT });
      }
      // Wrap the value into nested maps and write it with a one-path mask (merges into maps).
      const segs = splitPath(t.field_path);
      let wrapped = next;
      for (const seg of segs.slice(1).reverse()) {
        wrapped = Value.fromObject({ map_value: { fields: { [seg]: plain(wrapped) } } } as never);
      }
      (this as unknown as { set: (d: Date, f: Record<string, Field>, m: string[]) => void }).set(date, { [segs[0]]: toField(wrapped) }, [t.field_path]);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Queries.

type StructuredQuery = NonNullable<Parameters<FirestoreState["v1Query"]>[1]>;
type Filter = StructuredQuery["where"];
type Order = { path: string; desc: boolean };
const INEQUALITY = new Set([1, 2, 3, 4, 6, 10]); // <, <=, >, >=, !=, not-in
const NULL = Value.fromObject({ null_value: 0 });

function matches(doc: Doc, f: Filter): boolean {
  if (f.has_composite_filter) {
    const subs = f.composite_filter.filters;
    return f.composite_filter.op === 2 /* OR */ ? subs.some((s) => matches(doc, s)) : subs.every((s) => matches(doc, s));
  }
  if (f.has_unary_filter) {
    const v = fieldValue(doc, f.unary_filter.field.field_path);
    const isNaN = v?.value_type === "double_value" && Number.isNaN(v.double_value);
    switch (f.unary_filter.op) {
      case 2:
        return isNaN; // IS_NAN
      case 3:
        return v?.value_type === "null_value"; // IS_NULL
      case 4:
        return !!v && !isNaN; // IS_NOT_NAN
      case 5:
        return !!v && v.value_type !== "null_value"; // IS_NOT_NULL
      default:
        return false;
    }
  }
  if (!f.has_field_filter) return true;
  const { field, op, value } = f.field_filter;
  const v = fieldValue(doc, field.field_path);
  if (!v) return false;
  const sameKind = TYPE_ORDER[v.value_type] === TYPE_ORDER[value.value_type];
  const list = () => (value.value_type === "array_value" ? value.array_value.values : []);
  const elems = v.value_type === "array_value" ? v.array_value.values : [];
  switch (op) {
    case 1:
      return sameKind && compareValues(v, value) < 0;
    case 2:
      return sameKind && compareValues(v, value) <= 0;
    case 3:
      return sameKind && compareValues(v, value) > 0;
    case 4:
      return sameKind && compareValues(v, value) >= 0;
    case 5:
      return eqValues(v, value);
    case 6:
      return !eqValues(v, value) && !eqValues(v, NULL);
    case 7:
      return elems.some((e) => eqValues(e, value)); // ARRAY_CONTAINS
    case 8:
      return list().some((x) => eqValues(v, x)); // IN
    case 9:
      return elems.some((e) => list().some((x) => eqValues(e, x))); // ARRAY_CONTAINS_ANY
    case 10:
      return !eqValues(v, NULL) && !list().some((x) => eqValues(v, x)); // NOT_IN
    default:
      return false;
  }
}

function firstInequalityField(f: Filter | undefined): string | undefined {
  if (!f) return undefined;
  if (f.has_field_filter && INEQUALITY.has(f.field_filter.op)) return f.field_filter.field.field_path;
  if (f.has_composite_filter) {
    for (const s of f.composite_filter.filters) {
      const found = firstInequalityField(s);
      if (found) return found;
    }
  }
  return undefined;
}

// Explicit orderBy, else the first inequality field; always ends with __name__ (Firestore's rule).
function effectiveOrder(q: StructuredQuery): Order[] {
  const orders: Order[] = q.order_by.map((o) => ({ path: o.field.field_path, desc: o.direction === 2 }));
  const ineq = firstInequalityField(q.has_where ? q.where : undefined);
  if (orders.length === 0 && ineq) orders.push({ path: ineq, desc: false });
  if (!orders.some((o) => o.path === "__name__")) {
    orders.push({ path: "__name__", desc: orders.length ? orders[orders.length - 1].desc : false });
  }
  return orders;
}

function compareDocs(a: Doc, b: Doc, orders: Order[]): number {
  for (const o of orders) {
    const c = compareValues(fieldValue(a, o.path) ?? NULL, fieldValue(b, o.path) ?? NULL);
    if (c) return o.desc ? -c : c;
  }
  return 0;
}

function compareToCursor(doc: Doc, cursor: Value[], orders: Order[]): number {
  for (let i = 0; i < Math.min(cursor.length, orders.length); i++) {
    let c = cursor[i];
    // A __name__ cursor may be a bare document id relative to the queried collection.
    if (orders[i].path === "__name__" && c.value_type === "string_value") {
      c = Value.fromObject({ reference_value: `${doc.parent.getPath()}/${c.string_value}` });
    }
    const r = compareValues(fieldValue(doc, orders[i].path) ?? NULL, c);
    if (r) return orders[i].desc ? -r : r;
  }
  return 0;
}

function collectionsOf(node: unknown): Coll[] {
  return Object.values((node as DocInternals).collections ?? {});
}

function runQuery(state: FirestoreState, parent: string, q: StructuredQuery): Doc[] {
  const from = q.from[0];
  // An empty collection id with all_descendants ("kindless", used by recursiveDelete) means
  // every document below `parent`.
  if (q.from.length !== 1 || (!from.collection_id && !from.all_descendants)) {
    throw Object.assign(new Error("query must select exactly one collection"), { code: Status.INVALID_ARGUMENT });
  }
  let docs: Doc[];
  if (from.all_descendants) {
    // Collection group: every collection with that id below `parent`.
    const root = parent.endsWith("/documents") ? state.getProject(parent.split("/")[1]).getDatabase(parent.split("/")[3]) : state.getDocument(parent);
    docs = [];
    const walk = (colls: Coll[]) => {
      for (const c of colls) {
        for (const d of c.getAllDocuments()) {
          if ((!from.collection_id || c.name === from.collection_id) && d.metadata.hasExist) docs.push(d);
          walk(collectionsOf(d));
        }
      }
    };
    walk(collectionsOf(root));
  } else {
    docs = state
      .getCollection(`${parent}/${from.collection_id}`)
      .getAllDocuments()
      .filter((d) => d.metadata.hasExist);
  }
  if (q.has_where) docs = docs.filter((d) => matches(d, q.where));
  const orders = effectiveOrder(q);
  // orderBy(field) excludes documents that lack the field.
  docs = docs.filter((d) => orders.every((o) => fieldValue(d, o.path) !== undefined));
  docs.sort((a, b) => compareDocs(a, b, orders));
  if (q.has_start_at) {
    const { values, before } = q.start_at;
    docs = docs.filter((d) => (before ? compareToCursor(d, values, orders) >= 0 : compareToCursor(d, values, orders) > 0));
  }
  if (q.has_end_at) {
    const { values, before } = q.end_at;
    docs = docs.filter((d) => (before ? compareToCursor(d, values, orders) < 0 : compareToCursor(d, values, orders) <= 0));
  }
  if (q.offset) docs = docs.slice(q.offset);
  if (q.has_limit) docs = docs.slice(0, q.limit.value);
  return docs;
}

// ---------------------------------------------------------------------------------------------
// Transactions (optimistic) and atomic commits.

class Transactions {
  private seq = 0;
  private versions = new Map<string, number>(); // document path -> last write sequence
  private readSets = new Map<string, Map<string, number>>(); // tx id (hex) -> path -> version seen
  private lastCommitMs = 0;

  begin(): Uint8Array {
    const id = randomBytes(16);
    this.readSets.set(id.toString("hex"), new Map());
    return id;
  }
  /** Records that `tx` read these documents (first read wins: it is the version the tx saw). */
  read(tx: Uint8Array | undefined, paths: string[]) {
    const set = tx?.length ? this.readSets.get(Buffer.from(tx).toString("hex")) : undefined;
    if (!set) return;
    for (const p of paths) if (!set.has(p)) set.set(p, this.versions.get(p) ?? 0);
  }
  end(tx: Uint8Array | undefined) {
    if (tx?.length) this.readSets.delete(Buffer.from(tx).toString("hex"));
  }
  /** Throws ABORTED if anything the transaction read was written since. */
  validate(tx: Uint8Array | undefined) {
    if (!tx?.length) return;
    const set = this.readSets.get(Buffer.from(tx).toString("hex"));
    if (!set) {
      throw Object.assign(new Error("transaction expired or unknown"), { code: Status.ABORTED });
    }
    for (const [path, seen] of set) {
      if ((this.versions.get(path) ?? 0) !== seen) {
        throw Object.assign(new Error(`Transaction aborted: contention on ${path}`), { code: Status.ABORTED });
      }
    }
  }
  wrote(paths: string[]) {
    for (const p of paths) this.versions.set(p, ++this.seq);
  }
  /** Strictly increasing commit times, so update_time preconditions can tell writes apart. */
  commitDate(): Date {
    this.lastCommitMs = Math.max(Date.now(), this.lastCommitMs + 1);
    return new Date(this.lastCommitMs);
  }
  clear() {
    this.versions.clear();
    this.readSets.clear();
  }
}

const writePath = (w: Write) => (w.has_delete ? w.delete : w.update.name);

/** Applies writes all-or-nothing: on any error the touched documents are restored. */
function applyWrites(state: FirestoreState, tx: Transactions, writes: Write[], date: Date) {
  const touched = writes.map((w) => state.getDocument(writePath(w)));
  const saved = touched.map((d) => ({ d, metadata: d.metadata, fields: (d as unknown as DocInternals).fields }));
  try {
    const results = writes.map((w, i) => {
      const doc = touched[i];
      if (w.has_current_document && w.current_document.has_update_time) {
        const want = w.current_document.update_time;
        const have = doc.metadata.updatedAt;
        const ms = Number(want.seconds) * 1000 + Math.floor(want.nanos / 1e6);
        if (!have || have.getTime() !== ms) {
          throw Object.assign(new Error(`update_time precondition failed for ${doc.getPath()}`), { code: Status.FAILED_PRECONDITION });
        }
      }
      // A write without an update mask (a set() without merge) replaces the whole document; the
      // package merges it into the old fields instead. Rolled back with the rest on failure.
      if (w.has_update && !w.has_update_mask && doc.metadata.hasExist) (doc as unknown as DocInternals).fields = {};
      return state.writeV1Document(date, w);
    });
    tx.wrote(touched.map((d) => d.getPath()));
    return results;
  } catch (err) {
    for (const s of saved.reverse()) {
      s.d.metadata = s.metadata;
      (s.d as unknown as DocInternals).fields = s.fields;
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// gRPC service.

function toStatus(err: unknown) {
  const e = err as { code?: unknown; message?: string };
  const code = typeof e.code === "number" ? e.code : Status.INVALID_ARGUMENT;
  if (code === Status.INVALID_ARGUMENT) console.error("[firestore-server]", err);
  return { code, details: e.message ?? String(err), message: e.message ?? String(err) };
}

/** Set by setUnavailable(): every call fails as Firestore does in an outage. */
const outage = { on: false };
function failIfUnavailable() {
  if (outage.on) throw Object.assign(new Error("The service is currently unavailable (injected outage)."), { code: Status.UNAVAILABLE });
}

function unary<Req, Res>(fn: (req: Req) => Res) {
  return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    try {
      failIfUnavailable();
      cb(null, fn(call.request));
    } catch (err) {
      cb(toStatus(err), null);
    }
  };
}
function serverStream<Req, Res>(fn: (req: Req, write: (r: Res) => void) => void) {
  return (call: ServerWritableStream<Req, Res>) => {
    try {
      failIfUnavailable();
      fn(call.request, (r) => call.write(r));
      call.end();
    } catch (err) {
      call.emit("error", toStatus(err));
    }
  };
}

function createService(state: FirestoreState, tx: Transactions, usage: Usage) {
  type Req<K extends keyof UnimplementedFirestoreService> = Parameters<UnimplementedFirestoreService[K]>[0] extends { request: infer R } ? R : never;
  const readTimeNow = () => {
    const ms = Date.now();
    return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
  };
  const txFor = (req: { has_new_transaction?: boolean; transaction?: Uint8Array }) =>
    req.has_new_transaction ? tx.begin() : req.transaction?.length ? req.transaction : undefined;

  return {
    BeginTransaction: unary((_req: Req<"BeginTransaction">) => BeginTransactionResponse.fromObject({ transaction: tx.begin() })),

    Rollback: unary((req: Req<"Rollback">) => {
      tx.end(req.transaction);
      return Empty.fromObject({});
    }),

    Commit: unary((req: Req<"Commit">) => {
      try {
        tx.validate(req.transaction);
        const date = tx.commitDate();
        const results = applyWrites(state, tx, req.writes, date);
        usage.writes += results.length;
        const ts = { seconds: Math.floor(date.getTime() / 1000), nanos: (date.getTime() % 1000) * 1e6 };
        return CommitResponse.fromObject({ commit_time: ts, write_results: results.map((r) => r.toObject()) });
      } finally {
        tx.end(req.transaction);
      }
    }),

    // BulkWriter / recursiveDelete: each write applied independently with its own status.
    BatchWrite: unary((req: Req<"BatchWrite">) => {
      const write_results: object[] = [];
      const statuses: object[] = [];
      for (const w of req.writes) {
        try {
          const date = tx.commitDate();
          write_results.push(applyWrites(state, tx, [w], date)[0].toObject());
          usage.writes++;
          statuses.push({ code: Status.OK });
        } catch (err) {
          const s = toStatus(err);
          write_results.push({});
          statuses.push({ code: s.code, message: s.message });
        }
      }
      return BatchWriteResponse.fromObject({ write_results, status: statuses } as never);
    }),

    BatchGetDocuments: serverStream((req: Req<"BatchGetDocuments">, write: (r: BatchGetDocumentsResponse) => void) => {
      const t = txFor(req);
      if (req.has_new_transaction) write(BatchGetDocumentsResponse.fromObject({ transaction: t }));
      tx.read(t, req.documents);
      usage.reads += req.documents.length;
      for (const path of req.documents) {
        const doc = state.getDocument(path);
        write(
          BatchGetDocumentsResponse.fromObject({
            found: doc.metadata.hasExist ? doc.toV1DocumentObject() : undefined,
            missing: doc.metadata.hasExist ? undefined : path,
            read_time: readTimeNow(),
          }),
        );
      }
    }),

    RunQuery: serverStream((req: Req<"RunQuery">, write: (r: RunQueryResponse) => void) => {
      const t = txFor(req);
      const docs = runQuery(state, req.parent, req.structured_query);
      tx.read(
        t,
        docs.map((d) => d.getPath()),
      );
      usage.reads += Math.max(1, docs.length);
      const base = { read_time: readTimeNow(), skipped_results: 0, ...(t ? { transaction: t } : {}) };
      if (docs.length === 0) write(RunQueryResponse.fromObject({ ...base, done: true }));
      docs.forEach((d, i) => write(RunQueryResponse.fromObject({ ...base, document: d.toV1DocumentObject(), done: i === docs.length - 1 })));
    }),

    RunAggregationQuery: serverStream((req: Req<"RunAggregationQuery">, write: (r: RunAggregationQueryResponse) => void) => {
      const t = txFor(req);
      const docs = runQuery(state, req.parent, req.structured_aggregation_query.structured_query);
      tx.read(
        t,
        docs.map((d) => d.getPath()),
      );
      usage.reads += Math.max(1, Math.ceil(docs.length / 1000));
      const fields: Record<string, object> = {};
      for (const agg of req.structured_aggregation_query.aggregations) {
        if (agg.has_count) {
          const n = agg.count.has_up_to ? Math.min(docs.length, Number(agg.count.up_to.value)) : docs.length;
          fields[agg.alias] = { integer_value: n };
          continue;
        }
        const path = agg.has_sum ? agg.sum.field.field_path : agg.avg.field.field_path;
        const nums = docs.map((d) => fieldValue(d, path)).filter((v): v is Value => v?.value_type === "integer_value" || v?.value_type === "double_value");
        const sum = nums.reduce((acc, v) => acc + num(v), 0);
        const allInts = nums.every((v) => v.value_type === "integer_value");
        if (agg.has_sum) fields[agg.alias] = allInts ? { integer_value: sum } : { double_value: sum };
        else fields[agg.alias] = nums.length ? { double_value: sum / nums.length } : { null_value: 0 };
      }
      write(
        RunAggregationQueryResponse.fromObject({
          result: { aggregate_fields: fields },
          read_time: readTimeNow(),
          ...(t ? { transaction: t } : {}),
        } as never),
      );
    }),

    // collection.listDocuments(): with show_missing, also "missing" docs that have subcollections.
    ListDocuments: unary((req: Req<"ListDocuments">) => {
      const docs = state
        .getCollection(`${req.parent}/${req.collection_id}`)
        .getAllDocuments()
        .filter((d) => d.metadata.hasExist || (req.show_missing && d.hasChild()))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      return ListDocumentsResponse.fromObject({
        documents: docs.map((d) => (d.metadata.hasExist ? d.toV1DocumentObject() : { name: d.getPath() })),
        next_page_token: "",
      });
    }),

    // doc.listCollections() / db.listCollections().
    ListCollectionIds: unary((req: Req<"ListCollectionIds">) => {
      const parts = req.parent.split("/");
      const node = req.parent.endsWith("/documents") ? state.getProject(parts[1]).getDatabase(parts[3]) : state.getDocument(req.parent);
      const ids = collectionsOf(node)
        .filter((c) => (c as unknown as { hasChild(): boolean }).hasChild())
        .map((c) => c.name)
        .sort();
      return ListCollectionIdsResponse.fromObject({ collection_ids: ids, next_page_token: "" });
    }),

    // onSnapshot: the package's listener implementation (it re-runs our patched v1Query).
    Listen: (call: ServerDuplexStream<unknown, unknown>) => {
      call.once("data", (request) => {
        try {
          state.v1Listen(
            request as never,
            (res) => call.write(res),
            (handler) => call.once("end", handler),
          );
        } catch (err) {
          call.emit("error", toStatus(err));
        }
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------

export async function startFirestoreServer(opts: { host?: string; port?: number } = {}): Promise<LocalFirestore> {
  const host = opts.host ?? "127.0.0.1";
  patchDocumentClass();
  const state = new FirestoreState();
  // Listen (package code) and our service both go through this one query implementation.
  (state as unknown as { v1Query: unknown }).v1Query = (parent: string, q: StructuredQuery) => runQuery(state, parent, q);
  const tx = new Transactions();
  const usage: Usage = { reads: 0, writes: 0 };

  const reset = (projectId?: string) => {
    usage.reads = 0;
    usage.writes = 0;
    const s = state as unknown as { projects: Record<string, unknown> };
    if (projectId) {
      const { [projectId]: _dropped, ...rest } = s.projects;
      s.projects = rest;
    } else {
      state.clear();
    }
    tx.clear();
  };

  const grpcServer = new Server();
  grpcServer.addService(UnimplementedFirestoreService.definition, createService(state, tx, usage) as never);
  const injector = grpcServer.createConnectionInjector(ServerCredentials.createInsecure());

  const httpServer = http.createServer((req, res) => {
    const m = req.url?.match(/^\/emulator\/v1\/projects\/([^/]+)\/databases\/[^/]+\/documents\/?$/);
    if (req.method === "DELETE" && m) {
      reset(decodeURIComponent(m[1]));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } else if (req.method === "GET" && (req.url === "/" || req.url === "")) {
      res.writeHead(200).end("Ok\n");
    } else {
      res.writeHead(404).end("Not found\n");
    }
  });

  // Route each connection by its first bytes: the HTTP/2 preface ("PRI ") goes to gRPC.
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const sniff = () => {
      const head = socket.read(4) as Buffer | null; // null until 4 bytes (or the end) arrived
      if (head === null) {
        if (!socket.destroyed) socket.once("readable", sniff);
        return;
      }
      socket.unshift(head);
      if (head.toString("latin1") === "PRI ") injector.injectConnection(socket);
      else httpServer.emit("connection", socket);
    };
    socket.once("readable", sniff);
  });
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(opts.port ?? 8080, host, () => resolve());
  });
  const port = (front.address() as net.AddressInfo).port;

  return {
    host,
    port,
    hostPort: `${host}:${port}`,
    state,
    usage: () => ({ ...usage }),
    reset,
    setUnavailable(unavailable: boolean) {
      outage.on = unavailable;
    },
    async stop() {
      await new Promise<void>((resolve) => {
        front.close(() => resolve());
        injector.destroy();
        grpcServer.forceShutdown();
        for (const s of sockets) s.destroy();
      });
    },
  };
}

// `tsx local/firestore-server.ts [port]` runs it standalone.
if (require.main === module) {
  // Standalone only: a failure to start or stop is left unhandled on purpose, so Node prints it and exits non-zero.
  void startFirestoreServer({ port: Number(process.argv[2] ?? 8080) }).then((fs) => {
    console.log(`Firestore (offline) listening on ${fs.hostPort}`);
    const stop = () => void fs.stop().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
