/**
 * The local provider's image operations: classic tone, colour and edge effects, composed into
 * named style presets, prompt keywords and an enhance pass. Everything is deterministic: the same
 * pixels in give the same pixels out.
 */
import { AppError } from "../../errors.js";
import { lutStep, sharpStep, type Step } from "./raster.js";

// ---------------------------------------------------------------- building blocks

// Effects stay in RGB where they can: libvips' LAB-based modulate/normalise/sharpen are several
// times slower on a 12 MP photo, and a job's latency is the user's wait.

type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];

/** Luma weights (Rec. 601). */
const LUMA: [number, number, number] = [0.299, 0.587, 0.114];

/** Contrast around mid-grey: out = k * in + 128 * (1 - k). */
const contrast = (k: number): Step => sharpStep((img) => img.linear(k, 128 * (1 - k)));
const brightness = (k: number): Step => sharpStep((img) => img.linear(k, 0));
/** Saturation by mixing each pixel with its own luma: k = 0 grey, 1 unchanged, > 1 richer. */
const saturation = (k: number): Step => {
  const matrix = [0, 1, 2].map((row) => LUMA.map((w, col) => (1 - k) * w + (row === col ? k : 0))) as Matrix3;
  return sharpStep((img) => img.recomb(matrix));
};
/** Luma into all three channels: keeps RGB so later colour steps still apply. */
const greyscale: Step = sharpStep((img) => img.recomb([LUMA, LUMA, LUMA]));
const denoise: Step = sharpStep((img) => img.median(3));
/** A gentle 3x3 sharpen: centre 2, each direct neighbour -1/4. */
const sharpen: Step = sharpStep((img) =>
  img.convolve({ width: 3, height: 3, kernel: [0, -1, 0, -1, 8, -1, 0, -1, 0], scale: 4 }),
);
/** Per-channel gain and offset for R, G, B: a colour temperature shift. */
const tint = (gain: [number, number, number], offset: [number, number, number]): Step =>
  sharpStep((img) => img.linear(gain, offset));

/** Auto-levels: stretch luma so its 1st..99th percentiles span 0..255 (same gain on every channel). */
const normalise: Step = async (image) => {
  const histogram = new Uint32Array(256);
  const { data, channels } = image;
  for (let i = 0; i + 2 < data.length; i += channels) {
    histogram[(data[i]! * 77 + data[i + 1]! * 150 + data[i + 2]! * 29) >> 8]!++;
  }
  const total = data.length / channels;
  const percentile = (p: number) => {
    let seen = 0;
    for (let v = 0; v < 256; v++) if ((seen += histogram[v]!) >= total * p) return v;
    return 255;
  };
  const low = percentile(0.01);
  const high = percentile(0.99);
  if (high - low < 8) return image; // flat image: stretching would only amplify noise
  const gain = 255 / (high - low);
  return contrastStretch(gain, -low * gain)(image);
};
const contrastStretch = (gain: number, offset: number): Step => sharpStep((img) => img.linear(gain, offset));

/** The classic sepia matrix, scaled so white maps to a warm paper tone instead of clipping. */
const SEPIA_MATRIX = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
].map((row) => row.map((v) => v / 1.351)) as Matrix3;
const sepia: Step = sharpStep((img) => img.recomb(SEPIA_MATRIX));

/** Mixes `amount` of sepia into the original colours: a faded-print look. */
const sepiaWash = (amount: number): Step => {
  const identity = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const mix = SEPIA_MATRIX.map((row, r) => row.map((v, c) => amount * v + (1 - amount) * identity[r]![c]!));
  return sharpStep((img) => img.recomb(mix as Matrix3));
};

/** Quantises each channel to `levels` flat bands (posterize). */
const posterize = (levels: number): Step => {
  const band = 256 / levels;
  return lutStep((v) => (Math.min(levels - 1, Math.floor(v / band)) * 255) / (levels - 1));
};

/** Pencil lines: edges found by a Laplacian, amplified, then inverted to dark lines on white. */
const pencilEdges: Step[] = [
  sharpStep((img) => img.blur(1)), // soften noise so it does not become speckle
  greyscale,
  sharpStep((img) => img.convolve({ width: 3, height: 3, kernel: [-1, -1, -1, -1, 8, -1, -1, -1, -1] })),
  sharpStep((img) => img.linear(-4, 255)), // amplify and invert in one pass: dark lines on white
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
} satisfies Record<string, Step[]>;

export type StylePreset = keyof typeof STYLE_PRESETS;
export const LOCAL_STYLE_PRESETS = Object.keys(STYLE_PRESETS) as readonly StylePreset[];

export function styleSteps(style: string | undefined): Step[] {
  const available = `available: ${LOCAL_STYLE_PRESETS.join(", ")}`;
  if (style && Object.hasOwn(STYLE_PRESETS, style)) return STYLE_PRESETS[style as StylePreset];
  if (!style) throw new AppError("invalid-argument", `style: a preset is required; ${available}`, "style-unknown");
  // Echo the name only when it is plainly a preset-like token: never arbitrary client text.
  const shown = /^[a-z0-9-]{1,40}$/.test(style) ? ` "${style}"` : "";
  throw new AppError("invalid-argument", `style: unknown preset${shown}; ${available}`, "style-unknown");
}

// ---------------------------------------------------------------- prompt keywords (edit)

interface EditKeyword {
  name: string;
  pattern: RegExp;
  steps: Step[];
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

export function editSteps(prompt: string | undefined): Step[] {
  const names = matchEditKeywords(prompt);
  if (names.length === 0) {
    throw new AppError(
      "invalid-argument",
      `prompt: the local provider understands: ${LOCAL_EDIT_KEYWORDS.join(", ")}`,
      "prompt-not-understood",
    );
  }
  return names.flatMap((name) => EDIT_VOCABULARY.find((k) => k.name === name)!.steps);
}

// ---------------------------------------------------------------- enhance

/** Small photos are upscaled 2x (only when the long side is under this, and within the pixel cap). */
export const ENHANCE_UPSCALE_BELOW = 1024;

export function enhanceSteps(width: number, height: number, maxPixels: number): Step[] {
  const upscale = Math.max(width, height) < ENHANCE_UPSCALE_BELOW && width * height * 4 <= maxPixels;
  const resize: Step[] = upscale
    ? [sharpStep((img) => img.resize(width * 2, height * 2, { kernel: "lanczos3", fit: "fill" }))]
    : [];
  // Denoise before upscaling (noise would grow with it), sharpen last (restores resize softness).
  return [normalise, denoise, ...resize, sharpen];
}
