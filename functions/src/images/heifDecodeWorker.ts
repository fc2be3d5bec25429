/**
 * Worker thread body for convertHeif.ts: decodes one HEIC/HEIF photo with libheif (libde265 for
 * HEVC) compiled to WebAssembly, from `libheif-js`, and posts back 8-bit sRGB pixels with the
 * container's rotation, mirroring and crop applied. Nothing is written anywhere and nothing is
 * printed; the bytes arrive in workerData and leave in one message.
 *
 * Why a thread of its own per photo: the decode is synchronous (seconds for 12 MP) and would stall
 * every other request of the instance; a WebAssembly heap never shrinks, so a long-lived decoder
 * would keep ~120 MB and the last decoded face after the job; and a decode that runs away on a
 * hostile file can be stopped by terminating the thread.
 */
import { parentPort, workerData } from "node:worker_threads";

export interface HeifDecodeRequest {
  bytes: Uint8Array;
  /** The pixel cap, checked again on libheif's own idea of the primary image's size. */
  maxPixels: number;
}

export type HeifDecodeFailure = "too-many-pixels" | "unsupported-codec" | "undecodable";

export type HeifDecodeReply = { ok: true; pixels: ArrayBuffer; width: number; height: number; channels: 3 | 4 } | { ok: false; failure: HeifDecodeFailure };

/** The part of libheif-js's embind API used here (its own .d.ts is not exported by the package). */
interface EmbindEnum {
  value: number;
}
interface HeifError {
  code: EmbindEnum;
  subcode?: EmbindEnum;
}
interface HeifChannel {
  id: EmbindEnum;
  width: number;
  height: number;
  stride: number;
  /** A view into the WebAssembly heap: copied before the image is released. */
  data: Uint8Array;
}
interface DecodedHeif {
  image: unknown;
  width: number;
  height: number;
  channels: HeifChannel[];
}
interface LibHeif {
  heif_error_code: { heif_error_Ok: EmbindEnum };
  heif_colorspace: { heif_colorspace_RGB: EmbindEnum };
  heif_chroma: { heif_chroma_interleaved_RGB: EmbindEnum; heif_chroma_interleaved_RGBA: EmbindEnum };
  heif_channel: { heif_channel_interleaved: EmbindEnum };
  heif_context_alloc(): unknown;
  heif_context_free(context: unknown): void;
  heif_context_read_from_memory(context: unknown, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(context: unknown): unknown;
  heif_image_handle_get_width(handle: unknown): number;
  heif_image_handle_get_height(handle: unknown): number;
  heif_image_handle_has_alpha_channel(handle: unknown): number;
  heif_image_handle_release(handle: unknown): void;
  heif_js_decode_image2(handle: unknown, colorspace: EmbindEnum, chroma: EmbindEnum): DecodedHeif | HeifError;
  heif_image_release(image: unknown): void;
}

const isError = (value: unknown): value is HeifError => typeof value !== "object" || value === null || "code" in value;

/** libheif suberrors for a codec this build lacks (AV1, JPEG 2000, VVC... inside a HEIF): not corrupt, just unsupported. */
const UNSUPPORTED_CODEC_SUBCODES = new Set([3000 /* Unsupported_codec */, 6003 /* No_matching_decoder_installed */]);

const failed = (failure: HeifDecodeFailure, error?: HeifError): HeifDecodeReply => ({
  ok: false,
  failure: error?.subcode && UNSUPPORTED_CODEC_SUBCODES.has(error.subcode.value) ? "unsupported-codec" : failure,
});

/** Copies the interleaved rows out of the WebAssembly heap into a buffer of their own, without row padding. */
function copyRows(channel: HeifChannel, bytesPerPixel: number): ArrayBuffer {
  const rowBytes = channel.width * bytesPerPixel;
  const out = new Uint8Array(rowBytes * channel.height);
  for (let y = 0; y < channel.height; y++) {
    out.set(channel.data.subarray(y * channel.stride, y * channel.stride + rowBytes), y * rowBytes);
  }
  return out.buffer;
}

export function decodeHeif(libheif: LibHeif, { bytes, maxPixels }: HeifDecodeRequest): HeifDecodeReply {
  const context = libheif.heif_context_alloc();
  try {
    const read = libheif.heif_context_read_from_memory(context, bytes);
    if (read.code.value !== libheif.heif_error_code.heif_error_Ok.value) return failed("undecodable", read);
    const handle = libheif.heif_js_context_get_primary_image_handle(context);
    if (isError(handle)) return failed("undecodable", handle);
    try {
      // libheif's size (after rotation and crop) may differ from the header reader's: cap it too.
      // A coded stream larger than its `ispe` is refused by libheif's own security limits.
      const width = libheif.heif_image_handle_get_width(handle);
      const height = libheif.heif_image_handle_get_height(handle);
      if (width * height > maxPixels) return failed("too-many-pixels");
      const channels = libheif.heif_image_handle_has_alpha_channel(handle) ? 4 : 3;
      const chroma = channels === 4 ? libheif.heif_chroma.heif_chroma_interleaved_RGBA : libheif.heif_chroma.heif_chroma_interleaved_RGB;
      const decoded = libheif.heif_js_decode_image2(handle, libheif.heif_colorspace.heif_colorspace_RGB, chroma);
      if (isError(decoded)) return failed("undecodable", decoded);
      try {
        const plane = decoded.channels.find((c) => c.id.value === libheif.heif_channel.heif_channel_interleaved.value);
        if (!plane || plane.width * plane.height > maxPixels || plane.stride < plane.width * channels) return failed("undecodable");
        return { ok: true, pixels: copyRows(plane, channels), width: plane.width, height: plane.height, channels };
      } finally {
        libheif.heif_image_release(decoded.image);
      }
    } finally {
      libheif.heif_image_handle_release(handle);
    }
  } finally {
    libheif.heif_context_free(context);
  }
}

if (parentPort) {
  // The WebAssembly build with the wasm inlined: no file to locate, nothing fetched. A failure to
  // load it is the server's fault, not the photo's: it is left to surface as the thread's error.
  const libheif = require("libheif-js/wasm-bundle") as LibHeif;
  let reply: HeifDecodeReply;
  try {
    reply = decodeHeif(libheif, workerData as HeifDecodeRequest);
  } catch {
    // An abort inside the decoder (a RuntimeError, or a heap that cannot grow) on a hostile stream.
    reply = failed("undecodable");
  }
  parentPort.postMessage(reply, reply.ok ? [reply.pixels] : []);
}
