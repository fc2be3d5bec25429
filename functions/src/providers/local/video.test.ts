import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError } from "../../errors.js";
import { makeFaceImage, truncate } from "../../../test/fixtures/images.js";
import { ProviderFailure, type InputImage, type VideoOperation, type VideoProvider, type VideoStatus } from "../types.js";
import { createLocalVideoProvider, LOCAL_VIDEO_TMP_PREFIX, localVideoProvider, outputSize } from "./video.js";

const MODEL = "local-kenburns-1";
const FFMPEG = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;

// Every provider here uses its own temp root, so "nothing left behind" is checked exactly.
const tmpRoot = mkdtempSync(join(tmpdir(), "pf-video-test-"));
const provider = createLocalVideoProvider({ tmpRoot });
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

const leftovers = () => readdirSync(tmpRoot).filter((name) => name.startsWith(LOCAL_VIDEO_TMP_PREFIX));

async function jpegFace(width: number, height: number): Promise<InputImage> {
  return { bytes: await makeFaceImage({ width, height, format: "jpeg" }), mime: "image/jpeg", width, height };
}

let jobCounter = 0;
const jobId = () => `job-${++jobCounter}`;

/** Polls like the pipeline does (but faster), bounded. */
async function settle(p: VideoProvider, op: VideoOperation, limitMs = 60_000): Promise<VideoStatus> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = await p.status(op);
    if (status.state !== "queued" && status.state !== "running") return status;
    assert.ok(Date.now() < deadline, "the encode did not finish in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `ffmpeg -i pipe:0` on the clip (faststart puts moov first, so a pipe is enough); parses stderr. */
async function probe(mp4: Uint8Array): Promise<{ durationS: number; codec: string; pixFmt: string; width: number; height: number; audio: boolean }> {
  const child = spawn(FFMPEG, ["-hide_banner", "-i", "pipe:0"], { stdio: ["pipe", "ignore", "pipe"] });
  child.stdin.on("error", () => undefined);
  child.stdin.end(mp4);
  let text = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (text += s));
  await new Promise((r) => child.once("close", r));
  const duration = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(text);
  const video = /Stream #\S+.*Video: (\w+)[^,]*, (\w+)[^,]*(?:\([^)]*\))?, (\d+)x(\d+)/.exec(text);
  assert.ok(duration && video, "ffmpeg could not read the clip");
  return {
    durationS: Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]),
    codec: video[1]!,
    pixFmt: video[2]!,
    width: Number(video[3]),
    height: Number(video[4]),
    audio: /Stream #\S+.*Audio:/.test(text),
  };
}

async function makeVideo(p: VideoProvider, image: InputImage): Promise<{ mp4: Buffer; ms: number; status: VideoStatus }> {
  const t0 = Date.now();
  const op = await p.start({ model: MODEL, image, jobId: jobId() });
  // start hands the encode to ffmpeg and returns: the task is not finished yet (no timing: CI is slow).
  assert.ok(["queued", "running"].includes((await p.status(op)).state), "start must return before the encode finishes");
  const status = await settle(p, op);
  assert.equal(status.state, "succeeded", JSON.stringify(status.state === "failed" ? status.error : status.raw));
  assert.ok(status.state === "succeeded" && "bytes" in status.result);
  const ms = Date.now() - t0;
  const opened = await p.openResult(status.result);
  assert.equal(opened.contentType, "video/mp4");
  assert.equal(opened.contentLength, status.result.bytes.length);
  const mp4 = await readAll(opened.body);
  // Streamed in full: the provider has let go of it.
  const after = await p.status(op);
  assert.equal(after.state, "failed");
  return { mp4, ms, status };
}

test("provider identity, models and polling", () => {
  assert.equal(localVideoProvider.id, "local");
  assert.deepEqual(localVideoProvider.models, { default: MODEL, allowed: [MODEL] });
  assert.deepEqual(localVideoProvider.polling, { firstDelayMs: 1000, intervalsMs: [1000], deadlineMs: 120_000 });
});

test("output size: the photo's aspect in 720p, even, clamped to 16:9, small photos not blown up", () => {
  assert.deepEqual(outputSize(512, 512), { width: 512, height: 512 });
  assert.deepEqual(outputSize(4000, 3000), { width: 960, height: 720 });
  assert.deepEqual(outputSize(3000, 4000), { width: 720, height: 960 });
  assert.deepEqual(outputSize(1920, 1080), { width: 1280, height: 720 });
  assert.deepEqual(outputSize(1080, 1920), { width: 720, height: 1280 });
  assert.deepEqual(outputSize(6000, 1000), { width: 1280, height: 720 });
  assert.deepEqual(outputSize(100, 100), { width: 240, height: 240 });
  for (const [w, h] of [
    [513, 511],
    [777, 1333],
    [3001, 2999],
    [241, 999],
  ] as const) {
    const out = outputSize(w, h);
    assert.equal(out.width % 2, 0);
    assert.equal(out.height % 2, 0);
    assert.ok(Math.max(out.width, out.height) <= 1280 && Math.min(out.width, out.height) <= 720, `${w}x${h}`);
  }
});

test("a 512×512 face becomes a ~4 s H.264 MP4, no audio, even size", async (t) => {
  const { mp4, ms } = await makeVideo(provider, await jpegFace(512, 512));
  assert.equal(mp4.toString("latin1", 4, 8), "ftyp");
  // faststart: the index (moov) comes before the media (mdat).
  assert.ok(mp4.indexOf("moov") < mp4.indexOf("mdat"));
  const info = await probe(mp4);
  assert.equal(info.codec, "h264");
  assert.equal(info.pixFmt, "yuv420p");
  assert.ok(Math.abs(info.durationS - 4) < 0.1, String(info.durationS));
  assert.deepEqual([info.width, info.height], [512, 512]);
  assert.equal(info.audio, false);
  t.diagnostic(`512x512: ${ms} ms start→succeeded, ${mp4.length} bytes`);
  assert.deepEqual(leftovers(), []);
});

test("a 12 MP photo becomes 960×720 in a few seconds", async (t) => {
  const { mp4, ms } = await makeVideo(provider, await jpegFace(4000, 3000));
  const info = await probe(mp4);
  assert.deepEqual([info.width, info.height, info.codec], [960, 720, "h264"]);
  assert.ok(Math.abs(info.durationS - 4) < 0.1);
  t.diagnostic(`4000x3000: ${ms} ms start→succeeded, ${mp4.length} bytes`);
  assert.deepEqual(leftovers(), []);
});

test("status reports queued/running with progress before it succeeds", async () => {
  const op = await provider.start({ model: MODEL, image: await jpegFace(2400, 1800), jobId: jobId() });
  const seen = new Set<string>();
  let progress = -1;
  for (;;) {
    const status = await provider.status(op);
    seen.add(status.state);
    if (status.state === "running" && status.progress !== undefined) {
      assert.ok(status.progress >= progress && status.progress <= 99);
      progress = status.progress;
    }
    if (status.state !== "queued" && status.state !== "running") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(seen.has("running") || seen.has("queued"));
  assert.ok(seen.has("succeeded"));
  await provider.deleteTask!(op);
  assert.equal((await provider.status(op)).state, "failed");
});

test("the same photo twice: both playable, and (fixed threads, bitexact) byte-identical", async () => {
  const face = await jpegFace(512, 512);
  const first = await makeVideo(provider, face);
  const second = await makeVideo(provider, face);
  assert.equal((await probe(first.mp4)).codec, "h264");
  assert.equal((await probe(second.mp4)).codec, "h264");
  assert.ok(first.mp4.equals(second.mp4), "same binary, same photo → same bytes");
});

test("cancel mid-encode kills ffmpeg, forgets the task and leaves no temp files", async () => {
  const op = await provider.start({ model: MODEL, image: await jpegFace(4000, 3000), jobId: jobId() });
  // Wait until ffmpeg is really running (past decode), then cancel.
  const deadline = Date.now() + 30_000;
  while ((await provider.status(op)).state === "queued") {
    assert.ok(Date.now() < deadline);
    await new Promise((r) => setTimeout(r, 10));
  }
  await provider.cancel!(op);
  // Prompt: the 12 MP encode it interrupted would have run on; the task ends cancelled, not succeeded.
  const status = await provider.status(op);
  assert.ok(status.state === "cancelled" || status.state === "failed", status.state);
  assert.deepEqual(leftovers(), []);
  // Cancelling again, or an unknown id, is harmless.
  await provider.cancel!(op);
  await provider.cancel!({ id: "nope", model: MODEL });
});

test("cancel while still decoding: nothing starts, nothing is left", async () => {
  const op = await provider.start({ model: MODEL, image: await jpegFace(4000, 3000), jobId: jobId() });
  await provider.cancel!(op);
  assert.equal((await provider.status(op)).state, "failed");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(leftovers(), []);
});

test("an unknown id (another instance, or after a restart) ends failed and permanent", async () => {
  const status = await provider.status({ id: "local-video-from-elsewhere", model: MODEL });
  assert.equal(status.state, "failed");
  assert.ok(status.state === "failed");
  assert.equal(status.error.kind, "permanent");
  assert.equal(status.error.message, "the local provider lost this task (restarted)");
});

test("a corrupt photo fails permanently with our own message", async () => {
  const face = await jpegFace(512, 512);
  const op = await provider.start({ model: MODEL, image: { ...face, bytes: truncate(face.bytes, 300) }, jobId: jobId() });
  const status = await settle(provider, op);
  assert.equal(status.state, "failed");
  assert.ok(status.state === "failed");
  assert.equal(status.error.kind, "permanent");
  assert.equal(status.error.providerCode, "image-undecodable");
  assert.deepEqual(leftovers(), []);
});

test("wrong model is refused at start; a non-bytes result cannot be opened", async () => {
  const face = await jpegFace(64, 64);
  await assert.rejects(
    provider.start({ model: "other", image: face, jobId: jobId() }),
    (e: unknown) => e instanceof AppError && e.reason === "model-unsupported",
  );
  await assert.rejects(provider.openResult({ url: "https://example.com/x.mp4" }), (e: unknown) => e instanceof ProviderFailure && e.error.kind === "permanent");
});

test("a retried start for the same job returns the same task", async () => {
  const face = await jpegFace(256, 256);
  const id = jobId();
  const a = await provider.start({ model: MODEL, image: face, jobId: id });
  const b = await provider.start({ model: MODEL, image: face, jobId: id });
  assert.equal(a.id, b.id);
  await provider.cancel!(a);
});

test("bounded: a full provider refuses new work (retryable) instead of growing", async () => {
  const small = createLocalVideoProvider({ tmpRoot, maxTasks: 1 });
  const face = await jpegFace(2400, 1800);
  const first = await small.start({ model: MODEL, image: face, jobId: jobId() });
  await assert.rejects(small.start({ model: MODEL, image: face, jobId: jobId() }), (e: unknown) => {
    const error = small.classify(e);
    return error.kind === "retryable" && error.providerCode === "local-busy";
  });
  // A finished, unread clip is evicted for new work.
  assert.equal((await settle(small, first)).state, "succeeded");
  const second = await small.start({ model: MODEL, image: face, jobId: jobId() });
  assert.equal((await small.status(first)).state, "failed");
  await small.cancel!(second);
  assert.deepEqual(leftovers(), []);
});

test("finished clips expire after the TTL", async () => {
  const ttlMs = 4000;
  const short = createLocalVideoProvider({ tmpRoot, ttlMs });
  const started = Date.now();
  const op = await short.start({ model: MODEL, image: await jpegFace(64, 64), jobId: jobId() });
  const settled = await settle(short, op);
  // The TTL runs from start: on a very slow machine the encode itself may outlast it, and then the
  // clip must already be gone rather than served.
  if (settled.state !== "succeeded") assert.ok(Date.now() - started >= ttlMs, `ended ${settled.state} before its TTL`);
  await new Promise((r) => setTimeout(r, Math.max(0, started + ttlMs + 200 - Date.now())));
  assert.equal((await short.status(op)).state, "failed");
});

test("classify keeps foreign error text out", () => {
  const error = provider.classify(new Error("/tmp/secret/path: ENOSPC"));
  assert.equal(error.kind, "permanent");
  assert.ok(!error.message.includes("secret"));
});

test("openResult on a copy of the bytes (e.g. after serialisation) still releases the clip", async () => {
  const op = await provider.start({ model: MODEL, image: await jpegFace(64, 64), jobId: jobId() });
  const status = await settle(provider, op);
  assert.ok(status.state === "succeeded" && "bytes" in status.result);
  const copy = new Uint8Array(status.result.bytes);
  const mp4 = await readAll((await provider.openResult({ bytes: copy })).body);
  assert.equal(mp4.toString("latin1", 4, 8), "ftyp");
  assert.equal((await provider.status(op)).state, "failed");
});
