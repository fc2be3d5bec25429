/**
 * The local provider's image operations: classic tone, colour and edge effects, composed into
 * named style presets, prompt keywords and an enhance pass. Everything is deterministic: the same
 * pixels in give the same pixels out. Effects are lists of operations (plan.ts), run in as few sharp
 * pipelines as their order allows.
 */
import { AppError } from "../../errors.js";
import { affine, diagonal, type Kernel, type Matrix3, type Op, type Vec3 } from "./plan.js";

// ---------------------------------------------------------------- building blocks

// Effects stay in RGB where they can: libvips' LAB-based modulate/normalise/sharpen are several
// times slower on a 12 MP photo, and a job's latency is the user's wait.

/** Luma weights (Rec. 601). */
const LUMA: Vec3 = [0.299, 0.587, 0.114];

const uniform = (v: number): Vec3 => [v, v, v];
/** Contrast around mid-grey: out = k * in + 128 * (1 - k). */
const contrast = (k: number): Op => diagonal(uniform(k), uniform(128 * (1 - k)));
const brightness = (k: number): Op => diagonal(uniform(k), uniform(0));
/** Saturation by mixing each pixel with its own luma: k = 0 grey, 1 unchanged, > 1 richer. */
const saturation = (k: number): Op => affine([0, 1, 2].map((row) => LUMA.map((w, col) => (1 - k) * w + (row === col ? k : 0))) as Matrix3);
/** Luma into all three channels: keeps RGB so later colour steps still apply. */
const greyscale: Op = affine([LUMA, LUMA, LUMA]);
const denoise: Op = { kind: "median", size: 3 };
const convolve = (width: number, height: number, values: number[]): Op => ({ kind: "convolve", kernel: { width, height, values } });
/** A gentle 3x3 sharpen: centre 2, each direct neighbour -1/4. */
const sharpen: Op = convolve(
  3,
  3,
  [0, -1, 0, -1, 8, -1, 0, -1, 0].map((v) => v / 4),
);
/** Per-channel gain and offset for R, G, B: a colour temperature shift. */
const tint = (gain: Vec3, offset: Vec3): Op => diagonal(gain, offset);

/** Auto-levels: stretch luma so its 1st..99th percentiles span 0..255 (same gain on every channel). */
const normalise: Op = { kind: "normalise" };

/** The classic sepia matrix, scaled so white maps to a warm paper tone instead of clipping. */
const SEPIA_MATRIX = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
].map((row) => row.map((v) => v / 1.351)) as Matrix3;
const sepia: Op = affine(SEPIA_MATRIX);

/** Mixes `amount` of sepia into the original colours: a faded-print look. */
const sepiaWash = (amount: number): Op => affine(SEPIA_MATRIX.map((row, r) => row.map((v, c) => amount * v + (1 - amount) * (r === c ? 1 : 0))) as Matrix3);

/** Quantises each channel to `levels` flat bands (posterize): a lookup table, so its own pass. */
const posterize = (levels: number): Op => {
  const band = 256 / levels;
  const table = Uint8Array.from({ length: 256 }, (_, v) => Math.round((Math.min(levels - 1, Math.floor(v / band)) * 255) / (levels - 1)));
  return { kind: "lut", table };
};

/**
 * The 3x3 Gaussian of sigma 1 as libvips' gaussblur builds it (integer mask 12 20 12 per axis):
 * a convolution, so it composes with the edge kernel after it into one pass.
 */
const GAUSS_1D = [12, 20, 12].map((v) => v / 44);
const GAUSS_3X3: Kernel = { width: 3, height: 3, values: GAUSS_1D.flatMap((a) => GAUSS_1D.map((b) => a * b)) };

/** Pencil lines: edges found by a Laplacian, amplified, then inverted to dark lines on white. */
const pencilEdges: Op[] = [
  { kind: "convolve", kernel: GAUSS_3X3 }, // soften noise so it does not become speckle
  greyscale,
  convolve(3, 3, [-1, -1, -1, -1, 8, -1, -1, -1, -1]),
  diagonal(uniform(-4), uniform(255)), // amplify and invert in one pass: dark lines on white
];

const warmer = tint([1.08, 1.0, 0.86], [6, 2, -4]);
const cooler = tint([0.9, 1.0, 1.1], [-4, 0, 6]);

// ---------------------------------------------------------------- style presets

const STYLE_PRESETS = {
  noir: [greyscale, normalise, contrast(1.5)],
  sepia: [sepia, contrast(1.05)],
  vivid: [saturation(1.5), contrast(1.15)],
  warm: [warmer, saturation(1.1)],
  cool: [cooler],
  sketch: pencilEdges,
  "pop-art": [saturation(1.8), contrast(1.2), posterize(4)],
  vintage: [sepiaWash(0.45), contrast(0.85), tint([1.04, 1.0, 0.92], [14, 10, 4]), saturation(0.85)],
} satisfies Record<string, Op[]>;

export type StylePreset = keyof typeof STYLE_PRESETS;
export const LOCAL_STYLE_PRESETS = Object.keys(STYLE_PRESETS) as readonly StylePreset[];

export function styleSteps(style: string | undefined): Op[] {
  if (style && Object.hasOwn(STYLE_PRESETS, style)) return STYLE_PRESETS[style as StylePreset];
  if (!style) throw new AppError("invalid-argument", `style: a preset is required, one of ${LOCAL_STYLE_PRESETS.join(", ")}`, "style-unknown");
  // Never the client's value: the message is stored in the job's error and shown back (promise 19).
  throw new AppError("invalid-argument", `style: not one of ${LOCAL_STYLE_PRESETS.join(", ")}`, "style-unknown");
}

// ---------------------------------------------------------------- prompt keywords (edit)

interface EditKeyword {
  name: string;
  pattern: RegExp;
  steps: Op[];
}

/** What "edit" honestly understands offline; each keyword maps onto the effects above. */
const EDIT_VOCABULARY: readonly EditKeyword[] = [
  { name: "brighter", pattern: /\b(brighter|brighten|lighter|lighten)\b/, steps: [brightness(1.2)] },
  { name: "darker", pattern: /\b(darker|darken)\b/, steps: [brightness(0.8)] },
  {
    name: "black and white",
    pattern: /\b(black (and|&) white|b&w|monochrome|gr[ae]yscale)\b/,
    steps: [greyscale, contrast(1.1)],
  },
  { name: "warmer", pattern: /\bwarm(er|th)?\b/, steps: [warmer] },
  { name: "cooler", pattern: /\bcool(er)?\b/, steps: [cooler] },
  { name: "sharper", pattern: /\bsharp(er|en)?\b/, steps: [sharpen] },
  { name: "more contrast", pattern: /\b(more|higher|increase|boost) (the )?contrast\b/, steps: [contrast(1.25)] },
  { name: "vivid", pattern: /\b(vivid|saturated?|more colou?rful)\b/, steps: STYLE_PRESETS.vivid },
  { name: "sepia", pattern: /\bsepia\b/, steps: STYLE_PRESETS.sepia },
  { name: "vintage", pattern: /\b(vintage|retro)\b/, steps: STYLE_PRESETS.vintage },
  { name: "noir", pattern: /\bnoir\b/, steps: STYLE_PRESETS.noir },
  { name: "sketch", pattern: /\b(sketch|pencil drawing|pencil)\b/, steps: STYLE_PRESETS.sketch },
  { name: "pop art", pattern: /\bpop[- ]?art\b/, steps: STYLE_PRESETS["pop-art"] },
  { name: "denoise", pattern: /\b(denoise|less noise|reduce noise|smoother)\b/, steps: [denoise] },
];

export const LOCAL_EDIT_KEYWORDS: readonly string[] = EDIT_VOCABULARY.map((k) => k.name);

/** Prompts longer than this are scanned only up to it (the patterns are linear; this bounds work). */
const MAX_PROMPT_SCAN = 2000;

/** Keywords found in the prompt, in the order they appear there, each at most once. */
export function matchEditKeywords(prompt: string | undefined): string[] {
  const text = (prompt ?? "").slice(0, MAX_PROMPT_SCAN).toLowerCase();
  return EDIT_VOCABULARY.map((k) => ({ name: k.name, at: text.search(k.pattern) }))
    .filter((m) => m.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((m) => m.name);
}

export function editSteps(prompt: string | undefined): Op[] {
  const names = matchEditKeywords(prompt);
  if (names.length === 0) {
    throw new AppError("invalid-argument", `prompt: the local provider understands: ${LOCAL_EDIT_KEYWORDS.join(", ")}`, "prompt-not-understood");
  }
  return names.flatMap((name) => EDIT_VOCABULARY.find((k) => k.name === name)!.steps);
}

// ---------------------------------------------------------------- enhance

/** Small photos are upscaled 2x (only when the long side is under this, and within the pixel cap). */
export const ENHANCE_UPSCALE_BELOW = 1024;

export function enhanceSteps(width: number, height: number, maxPixels: number): Op[] {
  const upscale = Math.max(width, height) < ENHANCE_UPSCALE_BELOW && width * height * 4 <= maxPixels;
  const resize: Op[] = upscale ? [{ kind: "upscale2x" }] : [];
  // Denoise before upscaling (noise would grow with it), sharpen last (restores resize softness).
  return [normalise, denoise, ...resize, sharpen];
}
