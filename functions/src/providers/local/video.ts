/**
 * `local` video: an offline image-to-video stand-in that makes a ~4 s Ken Burns clip (a slow,
 * eased zoom with a slight drift) from the photo, H.264 in MP4, no audio, playable on phones.
 *
 * Without an output location `start` launches the encode and returns at once; `status` reports
 * it; `openResult` streams the finished MP4 from this process's memory. In the pipeline (which
 * gives `outputGcsPrefix`) polls run in other instances, so `start` finishes the few-second encode
 * and writes the clip into the job's transient result prefix, and `status` finds it there (the task
 * id stays opaque: the poll hands the job's prefix back in the operation). A poll
 * that finds neither ends the job failed (permanent) instead of hanging.
 *
 * Face data: sharp decodes the photo (the same untrusted-input guards as the image side) into raw
 * sRGB pixels, which go to ffmpeg on stdin, so ffmpeg — a static 2018 build — never parses the
 * user's file. ffmpeg writes the MP4 into a private (0700) temp dir because `+faststart` needs a
 * seekable output; the dir is removed as soon as the encode ends, whatever the outcome. Finished
 * clips are kept in a small map, dropped once streamed, on cancel, or after a TTL. Nothing here logs.
 *
 * The ffmpeg binary comes from `@ffmpeg-installer/ffmpeg`, resolved only inside `start` so a cold
 * start that never makes a video pays nothing for it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { AppError } from "../../errors.js";
import {
  ProviderFailure,
  type ImageMime,
  type ProviderError,
  type VideoOperation,
  type VideoProvider,
  type VideoRequest,
  type VideoResultRef,
  type VideoStatus,
} from "../types.js";
import { classifyLocal } from "./classify.js";
import { decodeError, DEFAULT_MAX_PIXELS } from "./raster.js";

export const LOCAL_VIDEO_MODEL = "local-kenburns-1";
/** Prefix of the private temp dirs the encoder uses under `tmpRoot` (tests look for leftovers). */
export const LOCAL_VIDEO_TMP_PREFIX = "pf-local-video-";

const FPS = 25;
const FRAMES = 100; // 4.0 s
/** Output box: long side ≤ 1280, short side ≤ 720 (720p either way round). */
const MAX_LONG = 1280;
const MAX_SHORT = 720;
/** Tiny photos are scaled up to this short side so players and thumbnails behave. */
const MIN_SHORT = 240;
/** Aspect ratios beyond 16:9 (or 9:16) are centre-cropped to it. */
const MAX_ASPECT = 16 / 9;
/** zoompan crops whole pixels; feeding it 2× the output size halves the visible wobble. */
const OVERSAMPLE = 2;
const MAX_RESULT_BYTES = 50 * 1024 * 1024;
const CHUNK = 64 * 1024;

export interface LocalVideoOptions {
  /** Decoder pixel cap (sharp `limitInputPixels`). */
  maxPixels?: number;
  /** Where the private per-encode temp dirs go (default: the OS temp dir). */
  tmpRoot?: string;
  /** Tasks kept at once, running or finished (default 4). */
  maxTasks?: number;
  /** A task (and its finished clip) is forgotten this long after start (default 10 min). */
  ttlMs?: number;
  /** An encode still running after this long is killed (default 90 s, inside the 120 s deadline). */
  encodeTimeoutMs?: number;
  /** The ffmpeg binary; default: `@ffmpeg-installer/ffmpeg`, resolved on first start. */
  ffmpegPath?: string;
}

type Task =
  | (TaskBase & { state: "queued" | "running"; frame: number })
  | (TaskBase & { state: "succeeded"; bytes: Uint8Array })
  | (TaskBase & { state: "failed" | "cancelled"; error: ProviderError });

interface TaskBase {
  id: string;
  jobId: string;
  model: string;
  startedAt: number;
  child?: ChildProcess;
  /** Set by cancel: the encode stops at its next step and the task is not recorded. */
  cancelled: boolean;
  expiry: NodeJS.Timeout;
  /** Settles when the encode has ended and its temp dir is gone. */
  settled: Promise<void>;
}

const lost = (): ProviderError => ({
  kind: "permanent",
  message: "the local provider lost this task (restarted)",
  providerCode: "local-task-lost",
});

const failure = (kind: ProviderError["kind"], providerCode: string, message: string) => new ProviderFailure({ kind, message, providerCode });

export function createLocalVideoProvider(options: LocalVideoOptions = {}): VideoProvider {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxTasks = Math.max(1, options.maxTasks ?? 4);
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const encodeTimeoutMs = options.encodeTimeoutMs ?? 90_000;
  const tasks = new Map<string, Task>();
  let ffmpegPath = options.ffmpegPath;

  const forget = (id: string) => {
    const task = tasks.get(id);
    if (!task) return;
    clearTimeout(task.expiry);
    tasks.delete(id);
  };

  /** Makes room for one more task: finished ones go first, oldest first; running ones never. */
  const makeRoom = () => {
    if (tasks.size < maxTasks) return;
    const finished = [...tasks.values()].filter((t) => t.state !== "queued" && t.state !== "running");
    finished.sort((a, b) => a.startedAt - b.startedAt);
    for (const task of finished) {
      if (tasks.size < maxTasks) return;
      forget(task.id);
    }
    if (tasks.size >= maxTasks) {
      const busy = failure("retryable", "local-busy", "the local provider is busy making other videos; try again shortly");
      busy.error.retryAfterMs = 10_000;
      throw busy;
    }
  };

  const resolveFfmpeg = (): string => {
    if (ffmpegPath) return ffmpegPath;
    try {
      // Lazy on purpose: loading the installer (and finding its binary) costs cold starts otherwise.
      const installer = require("@ffmpeg-installer/ffmpeg") as { path?: unknown };
      if (typeof installer.path !== "string" || !installer.path) throw new Error("no path");
      ffmpegPath = installer.path;
      return ffmpegPath;
    } catch {
      throw failure("permanent", "local-ffmpeg-missing", "the local video encoder is not installed on this server");
    }
  };

  const run = async (task: Task, req: VideoRequest, ffmpeg: string): Promise<void> => {
    let dir: string | undefined;
    try {
      const frame = await prepareFrame(req.image.bytes, req.image.mime, maxPixels);
      if (task.cancelled) return;
      dir = await mkdtemp(join(options.tmpRoot ?? tmpdir(), LOCAL_VIDEO_TMP_PREFIX));
      if (task.cancelled) return;
      const output = join(dir, "out.mp4");
      set(task, { state: "running", frame: 0 });
      await encode(ffmpeg, frame, output, encodeTimeoutMs, task);
      if (task.cancelled) return;
      const bytes = await readFile(output);
      if (bytes.byteLength < 12 || bytes.byteLength > MAX_RESULT_BYTES || bytes.toString("latin1", 4, 8) !== "ftyp") {
        throw failure("permanent", "local-result-invalid", "the local provider produced no playable video");
      }
      set(task, { state: "succeeded", bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    } catch (error) {
      if (!task.cancelled) set(task, { state: "failed", error: classify(error) });
    } finally {
      task.child = undefined;
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };

  /** Moves a task to a new state in place (the map holds the same object). */
  const set = (task: Task, next: Partial<Task> & Pick<Task, "state">) => {
    const mutable = task as unknown as Record<string, unknown>;
    delete mutable.frame;
    delete mutable.bytes;
    delete mutable.error;
    Object.assign(task, next);
  };

  return {
    id: "local",
    models: { default: LOCAL_VIDEO_MODEL, allowed: [LOCAL_VIDEO_MODEL] },
    polling: { firstDelayMs: 1000, intervalsMs: [1000], deadlineMs: 120_000 },

    async start(req, signal) {
      signal?.throwIfAborted();
      if (req.model !== LOCAL_VIDEO_MODEL) {
        throw new AppError("invalid-argument", `model: the local provider makes videos with ${LOCAL_VIDEO_MODEL}`, "model-unsupported");
      }
      if (!(req.image?.bytes instanceof Uint8Array) || req.image.bytes.length === 0) {
        throw new AppError("invalid-argument", "image: missing", "image-missing");
      }
      // The same job starting twice (a retried call) gets the task it already has, not a second encode.
      for (const task of tasks.values()) {
        if (task.jobId === req.jobId && task.model === req.model && task.state !== "failed" && task.state !== "cancelled") {
          return { id: task.id, model: task.model };
        }
      }
      const ffmpeg = resolveFfmpeg();
      makeRoom();
      const id = `${LOCAL_TASK_PREFIX}${randomUUID()}`;
      const task = {
        id,
        jobId: req.jobId,
        model: req.model,
        startedAt: Date.now(),
        state: "queued",
        frame: 0,
        cancelled: false,
        expiry: setTimeout(() => forget(id), ttlMs).unref(),
        settled: Promise.resolve(),
      } as Task;
      tasks.set(id, task);
      // Deliberately not awaited: start returns while the encode runs; `run` never rejects.
      task.settled = run(task, req, ffmpeg);
      if (!req.outputGcsPrefix) return { id, model: req.model };
      // In the pipeline the polls run in other function instances (or, in the emulator, other
      // processes) that cannot see this memory: finish the short encode here and publish the clip
      // where the job expects its result, like a provider writing to our bucket (Veo's storageUri).
      await task.settled;
      if (task.state !== "succeeded") {
        forget(id);
        throw task.state === "failed" ? new ProviderFailure(task.error) : failure("permanent", "local-cancelled", "the local video was cancelled");
      }
      await publish(publishedUri(req.outputGcsPrefix, id), task.bytes);
      forget(id);
      // The id stays opaque (it is stored as the job's providerTaskId): polls find the clip from
      // the job's own prefix, which they are given again (VideoOperation.outputGcsPrefix).
      return { id, model: req.model };
    },

    async status(op: VideoOperation): Promise<VideoStatus> {
      const task = tasks.get(op.id);
      if (!task && op.outputGcsPrefix && LOCAL_TASK_ID.test(op.id)) {
        const gcsUri = publishedUri(op.outputGcsPrefix, op.id);
        return (await isPublished(gcsUri)) ? { state: "succeeded", result: { gcsUri }, raw: "published" } : { state: "failed", error: lost(), raw: "lost" };
      }
      if (!task) return { state: "failed", error: lost(), raw: "lost" };
      switch (task.state) {
        case "queued":
          return { state: "queued", raw: "queued" };
        case "running":
          return { state: "running", progress: Math.min(99, Math.round((task.frame / FRAMES) * 100)), raw: "running" };
        case "succeeded":
          return { state: "succeeded", result: { bytes: task.bytes }, raw: "succeeded" };
        default:
          return { state: task.state, error: task.error, raw: task.state };
      }
    },

    async openResult(result: VideoResultRef, signal) {
      signal?.throwIfAborted();
      if (!("bytes" in result) || !(result.bytes instanceof Uint8Array) || result.bytes.length === 0) {
        throw failure("permanent", "local-result-unsupported", "the local provider returns its videos as bytes only");
      }
      const bytes = result.bytes;
      const owner = findOwner(tasks, bytes);
      let offset = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (signal?.aborted) {
            controller.error(signal.reason);
            return;
          }
          if (offset >= bytes.length) {
            controller.close();
            // Streamed in full: our copy is no longer needed.
            if (owner) forget(owner);
            return;
          }
          const end = Math.min(bytes.length, offset + CHUNK);
          controller.enqueue(bytes.subarray(offset, end));
          offset = end;
        },
      });
      return { body, contentType: "video/mp4", contentLength: bytes.length };
    },

    async cancel(op: VideoOperation) {
      const task = tasks.get(op.id);
      if (!task) return;
      task.cancelled = true;
      forget(op.id);
      task.child?.kill("SIGKILL");
      await task.settled;
    },

    async deleteTask(op: VideoOperation) {
      forget(op.id);
    },

    classify,
  };
}

export const localVideoProvider: VideoProvider = createLocalVideoProvider();

const LOCAL_TASK_PREFIX = "local-video-";
const LOCAL_TASK_ID = /^local-video-[0-9a-f-]{36}$/;

/** Where a published clip lives: inside the job's result prefix, named after the task. */
const publishedUri = (outputGcsPrefix: string, taskId: string) => `${outputGcsPrefix}${taskId}.mp4`;

/** `gs://bucket/transient/results/{uid}/{jobId}/…` → the object path and its owner, from our own layout. */
function parsePublished(gcsUri: string) {
  const match = /^gs:\/\/[^/]+\/(transient\/results\/([^/]+)\/([^/]+)\/[^/]+)$/.exec(gcsUri);
  if (!match) throw failure("permanent", "local-bad-output", "the local provider was given an output location outside the transient area");
  return { path: match[1]!, uid: match[2]!, jobId: match[3]! };
}

async function publish(gcsUri: string, bytes: Uint8Array): Promise<void> {
  const { path, uid, jobId } = parsePublished(gcsUri);
  const { saveTransient } = await import("../../storage/transientStore.js");
  const { settings } = await import("../../config/params.js");
  // A result's TTL, like the copy the job keeps: the purge allows a result no longer than that.
  await saveTransient(path, bytes, "video/mp4", { uid, jobId, kind: "results", deleteAt: String(Date.now() + settings().resultTtlMinutes * 60_000) });
}

async function isPublished(gcsUri: string): Promise<boolean> {
  const { transientBucket } = await import("../../storage/transientStore.js");
  const [exists] = await transientBucket().file(parsePublished(gcsUri).path).exists();
  return exists;
}

/**
 * The task whose clip `bytes` is: the same object normally; if the caller copied it, the one task
 * with equal bytes (two jobs with identical clips: neither, the TTL drops them instead).
 */
function findOwner(tasks: Map<string, Task>, bytes: Uint8Array): string | undefined {
  const matches: string[] = [];
  for (const task of tasks.values()) {
    if (task.state !== "succeeded") continue;
    if (task.bytes === bytes) return task.id;
    if (task.bytes.length === bytes.length && Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.length).equals(bytes)) {
      matches.push(task.id);
    }
  }
  return matches.length === 1 ? matches[0] : undefined;
}

interface Frame {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
  outWidth: number;
  outHeight: number;
}

/** Even output size: the photo's aspect (clamped to 16:9 either way) fitted in 720p, not enlarged past the photo. */
export function outputSize(width: number, height: number): { width: number; height: number } {
  const aspect = Math.min(MAX_ASPECT, Math.max(1 / MAX_ASPECT, width / height));
  const landscape = aspect >= 1;
  const long = landscape ? aspect : 1 / aspect; // long side per unit of short side
  const sourceShort = Math.min(width, height);
  let short = Math.min(MAX_SHORT, MAX_LONG / long, Math.max(MIN_SHORT, sourceShort));
  short = Math.max(2, Math.floor(short / 2) * 2);
  const longSide = Math.max(2, Math.min(MAX_LONG, Math.round((short * long) / 2) * 2));
  return landscape ? { width: longSide, height: short } : { width: short, height: longSide };
}

/** Decodes the untrusted photo with sharp and returns raw sRGB pixels at twice the output size. */
async function prepareFrame(bytes: Uint8Array, mime: ImageMime, maxPixels: number): Promise<Frame> {
  try {
    const meta = await sharp(bytes, { limitInputPixels: maxPixels }).metadata();
    if (!meta.width || !meta.height) throw new Error("no size");
    // EXIF orientations 5–8 swap the sides.
    const swapped = (meta.orientation ?? 1) >= 5;
    const [w, h] = swapped ? [meta.height, meta.width] : [meta.width, meta.height];
    const out = outputSize(w, h);
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: "truncated" })
      .rotate()
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .resize(out.width * OVERSAMPLE, out.height * OVERSAMPLE, { fit: "cover", position: "centre" })
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) throw new Error("unexpected channels");
    return { data, width: info.width, height: info.height, channels: info.channels, outWidth: out.width, outHeight: out.height };
  } catch (error) {
    throw decodeError(error, mime);
  }
}

/**
 * The ffmpeg arguments: raw frame on stdin → eased zoom 1.0 → 1.15 drifting slightly right and
 * down (smoothstep, so it starts and ends at rest) → BT.709 yuv420p → x264 High, CRF 20, fixed
 * thread count and bitexact muxing so the same photo gives the same bytes on the same binary.
 */
export function ffmpegArgs(frame: Pick<Frame, "width" | "height" | "channels" | "outWidth" | "outHeight">, output: string): string[] {
  const p = `(on/${FRAMES - 1})`;
  const ease = `(${p}*${p}*(3-2*${p}))`;
  const zoompan = [
    `z='1+0.15*${ease}'`,
    `x='(iw-iw/zoom)*(0.4+0.2*${ease})'`,
    `y='(ih-ih/zoom)*(0.45+0.1*${ease})'`,
    `d=${FRAMES}`,
    `s=${frame.outWidth}x${frame.outHeight}`,
    `fps=${FPS}`,
  ].join(":");
  const filter = `scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,zoompan=${zoompan},setsar=1`;
  // prettier-ignore
  return [
    "-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1",
    "-f", "rawvideo", "-pix_fmt", frame.channels === 1 ? "gray" : "rgb24",
    "-s", `${frame.width}x${frame.height}`, "-framerate", String(FPS), "-i", "pipe:0",
    "-vf", filter, "-frames:v", String(FRAMES), "-an", "-sn", "-dn",
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-profile:v", "high", "-pix_fmt", "yuv420p",
    "-threads", "2",
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
    "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
    "-movflags", "+faststart", "-f", "mp4", "-y", output,
  ];
}

/** Runs ffmpeg once: pixels in on stdin, progress (`frame=N`) on stdout, stderr discarded. */
function encode(ffmpeg: string, frame: Frame, output: string, timeoutMs: number, task: Task): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timedOut = false;
    let child: ChildProcess;
    try {
      // An empty environment: ffmpeg needs none, and it should see no secrets.
      child = spawn(ffmpeg, ffmpegArgs(frame, output), { stdio: ["pipe", "pipe", "ignore"], env: {}, windowsHide: true });
    } catch {
      reject(failure("permanent", "local-ffmpeg-missing", "the local video encoder could not be started"));
      return;
    }
    task.child = child;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs).unref();

    let pending = "";
    child.stdout?.setEncoding("latin1");
    child.stdout?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^frame=(\d+)/.exec(line);
        if (match && task.state === "running") task.frame = Number(match[1]);
      }
    });
    // ffmpeg may exit (killed, or failing) before reading all of stdin: EPIPE is expected then.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(frame.data);

    child.once("error", () => {
      clearTimeout(timer);
      reject(failure("permanent", "local-ffmpeg-missing", "the local video encoder could not be started"));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (task.cancelled) reject(new DOMException("cancelled", "AbortError"));
      else if (timedOut) reject(failure("retryable", "local-encode-timeout", "the local provider took too long to make the video"));
      else if (signal) reject(failure("retryable", "local-encode-killed", "the local video encoder was stopped before it finished"));
      else reject(failure("permanent", "local-encode-failed", "the local provider could not make a video from this photo"));
    });
  });
}

/** Bad input is permanent; an encoder stopped from outside (timeout, OOM) may succeed on a retry. */
function classify(error: unknown): ProviderError {
  return classifyLocal(error, { cancelled: "local video making was cancelled", failed: "local video making failed", failedCode: "local-video-failed" });
}
