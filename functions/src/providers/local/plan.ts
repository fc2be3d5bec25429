/**
 * The local provider's effects as data, and the plan that runs them in as few sharp pipelines as
 * the look allows.
 *
 * An effect is a list of operations applied one after another, each result clipped to 0..255:
 * that order and those clips define the look. sharp runs the operations of one pipeline in its own
 * fixed order (resize, median, convolve, recomb, linear; one of each) and clips once, at the end.
 * A pipeline streams the photo through in strips; a boundary between two pipelines holds the whole
 * picture as raw pixels (3 bytes a pixel: 66 MB for a 22 MP photo, several times the file). So the
 * planner packs consecutive operations into one pass wherever the pass computes the same picture up
 * to rounding:
 * - colour operations (affine: out = M·in + b) compose into one matrix and offset. The clip skipped
 *   between two of them is harmless when no value is out of range there, or when the next operation
 *   clips those values anyway (contrast up after a saturation boost), or, for colour chains, when it
 *   moves no value by more than CLIP_TOLERANCE levels over a grid of the RGB cube (the near-white
 *   reds of vintage's warm tint: at most 3 levels);
 * - a median moves ahead of per-channel increasing colour operations (it commutes with them,
 *   clipping included); a convolution moves ahead of colour operations that never clip (both are
 *   linear), and consecutive convolutions compose into one kernel;
 * - anything else starts a new pass. A lookup table (posterize) ends its pass: it maps the raw
 *   pixels in JS. Normalise (auto-levels) becomes an affine once the luma histogram of its input is
 *   known (raster.ts).
 * The step-by-step version rounded down after every operation; a fused pass rounds once, so its
 * values can be a level or two higher. Nothing else differs.
 */

export type Vec3 = [number, number, number];
export type Matrix3 = [Vec3, Vec3, Vec3];

/** out = matrix · in + offset, per pixel, on R, G, B. */
export interface Affine {
  kind: "affine";
  matrix: Matrix3;
  offset: Vec3;
}

/** Spatial operations in the order sharp applies them within one pipeline. */
export interface SpatialOps {
  upscale2x?: boolean;
  median?: number;
  convolve?: Kernel;
}

/** Auto-levels from the luma histogram of its input: `before` is what precedes it in its pass. */
export interface Normalise {
  kind: "normalise";
  before?: SpatialOps;
}

/** Weights as they apply (no scale): a normalised blur sums to 1, an edge detector to 0. */
export interface Kernel {
  width: number;
  height: number;
  values: readonly number[];
}

export type Op =
  Affine | Normalise | { kind: "median"; size: number } | { kind: "convolve"; kernel: Kernel } | { kind: "upscale2x" } | { kind: "lut"; table: Uint8Array };

export type ChainOp = Affine | Normalise;

/** One sharp pipeline: its spatial operations, then its colour chain, then an optional lookup. */
export interface Pass extends SpatialOps {
  chain: ChainOp[];
  /** Applied to the colour channels of the pass's raw output; the next pass reads the result. */
  lut?: Uint8Array;
}

/** Worst change (levels of 255) a skipped clip may make inside a fused colour chain. */
export const CLIP_TOLERANCE = 4;

// ---------------------------------------------------------------- affine algebra

export const IDENTITY: Matrix3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

export function affine(matrix: Matrix3, offset: Vec3 = [0, 0, 0]): Affine {
  return { kind: "affine", matrix, offset };
}

export const diagonal = (gain: Vec3, offset: Vec3): Affine =>
  affine(
    [
      [gain[0], 0, 0],
      [0, gain[1], 0],
      [0, 0, gain[2]],
    ],
    offset,
  );

export function applyAffine({ matrix, offset }: Affine, v: Vec3): Vec3 {
  return matrix.map((row, r) => row[0] * v[0] + row[1] * v[1] + row[2] * v[2] + offset[r]!) as Vec3;
}

/** `then` after `first`: one affine. */
export function compose(first: Affine, then: Affine): Affine {
  const matrix = then.matrix.map((row) =>
    [0, 1, 2].map((c) => row[0] * first.matrix[0][c] + row[1] * first.matrix[1][c] + row[2] * first.matrix[2][c]),
  ) as Matrix3;
  return affine(matrix, applyAffine(then, first.offset));
}

export const composeAll = (steps: readonly Affine[]): Affine => steps.reduce(compose, affine(IDENTITY));

export const isDiagonal = ({ matrix }: Affine) => matrix.every((row, r) => row.every((v, c) => r === c || v === 0));

// ---------------------------------------------------------------- value ranges

type Interval = [number, number];
export type Box = [Interval, Interval, Interval];

const FULL: Box = [
  [0, 255],
  [0, 255],
  [0, 255],
];
const UNBOUNDED: Box = [
  [-Infinity, Infinity],
  [-Infinity, Infinity],
  [-Infinity, Infinity],
];
const inRange = (box: Box) => box.every(([lo, hi]) => lo >= 0 && hi <= 255);

function affineBox({ matrix, offset }: Affine, box: Box): Box {
  return matrix.map((row, r) => {
    let lo = offset[r]!;
    let hi = offset[r]!;
    row.forEach((m, c) => {
      const [a, b] = [m * box[c]![0], m * box[c]![1]];
      lo += m === 0 ? 0 : Math.min(a, b);
      hi += m === 0 ? 0 : Math.max(a, b);
    });
    return [lo, hi];
  }) as Box;
}

function kernelBox(kernel: Kernel, box: Box): Box {
  const positive = kernel.values.reduce((s, v) => s + Math.max(v, 0), 0);
  const negative = kernel.values.reduce((s, v) => s + Math.min(v, 0), 0);
  return box.map(([lo, hi]) => [positive * lo + negative * hi, positive * hi + negative * lo]) as Box;
}

/**
 * Whether `next` clips values that are out of range anyway, so the clip before it changes nothing:
 * per channel, an increasing map that sends 255 to 255 or more (0 to 0 or less) keeps what was
 * above (below) the range clipped; a decreasing one the other way round.
 */
function absorbsClip(next: Affine, box: Box): boolean {
  if (inRange(box)) return true;
  if (!isDiagonal(next)) return false;
  return box.every(([lo, hi], c) => {
    const gain = next.matrix[c]![c]!;
    const at0 = next.offset[c]!;
    const at255 = gain * 255 + at0;
    if (gain === 0) return true;
    const top = hi <= 255 || (gain > 0 ? at255 >= 255 : at255 <= 0);
    const bottom = lo >= 0 || (gain > 0 ? at0 <= 0 : at0 >= 255);
    return top && bottom;
  });
}

const clip = (v: number) => Math.min(255, Math.max(0, v));
const GRID = 17;

/** Largest difference between clipping after every step and clipping once, over a grid of `input`. */
export function clipDeviation(input: Box, steps: readonly Affine[]): number {
  const fused = composeAll(steps);
  const axis = (c: number) => Array.from({ length: GRID + 1 }, (_, i) => input[c]![0] + ((input[c]![1] - input[c]![0]) * i) / GRID);
  let worst = 0;
  for (const r of axis(0)) {
    for (const g of axis(1)) {
      for (const b of axis(2)) {
        let stepwise = [clip(r), clip(g), clip(b)] as Vec3;
        for (const step of steps) stepwise = applyAffine(step, stepwise).map(clip) as Vec3;
        const once = applyAffine(fused, [r, g, b]).map(clip);
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(stepwise[c]! - once[c]!));
      }
    }
  }
  return worst;
}

// ---------------------------------------------------------------- kernels

/** The full 2-D convolution of two kernels: applying the result is applying `first`, then `then`. */
export function composeKernels(first: Kernel, then: Kernel): Kernel {
  const width = first.width + then.width - 1;
  const height = first.height + then.height - 1;
  const values = new Array<number>(width * height).fill(0);
  for (let y1 = 0; y1 < first.height; y1++) {
    for (let x1 = 0; x1 < first.width; x1++) {
      for (let y2 = 0; y2 < then.height; y2++) {
        for (let x2 = 0; x2 < then.width; x2++) {
          values[(y1 + y2) * width + x1 + x2]! += first.values[y1 * first.width + x1]! * then.values[y2 * then.width + x2]!;
        }
      }
    }
  }
  return { width, height, values };
}

// ---------------------------------------------------------------- the planner

class PassBuilder {
  readonly pass: Pass = { chain: [] };
  /** Values after the spatial operations, before any clip. */
  private spatialBox: Box = FULL;
  /** A colour step was fused within CLIP_TOLERANCE rather than exactly. */
  private approximate = false;
  /** A convolution moved ahead of colour steps: the grid check's order no longer matches. */
  private reordered = false;
  closed = false;

  /** Ranges through the chain: what enters it, then after each step (before clipping). */
  private chainBoxes(): Box[] {
    const boxes = [this.spatialBox];
    for (const op of this.pass.chain) boxes.push(op.kind === "normalise" ? UNBOUNDED : affineBox(op, boxes.at(-1)!));
    return boxes;
  }

  private get tail(): Box {
    return this.chainBoxes().at(-1)!;
  }

  private get empty() {
    return !this.pass.upscale2x && this.pass.median === undefined && !this.pass.convolve && this.pass.chain.length === 0;
  }

  add(op: Op): boolean {
    if (this.closed) return false;
    switch (op.kind) {
      case "affine":
        return this.addAffine(op);
      case "normalise":
        // Its histogram must be of the values the step-by-step version had: nothing clipped before it.
        if (!inRange(this.tail)) return false;
        this.pass.chain.push({ kind: "normalise", before: this.spatial() });
        return true;
      case "median":
        return this.addMedian(op.size);
      case "convolve":
        return this.addConvolve(op.kernel);
      case "upscale2x":
        if (!this.empty) return false;
        this.pass.upscale2x = true;
        return true;
      case "lut":
        this.pass.lut = op.table;
        this.closed = true;
        return true;
    }
  }

  private spatial(): SpatialOps {
    const { upscale2x, median, convolve } = this.pass;
    return { ...(upscale2x && { upscale2x }), ...(median !== undefined && { median }), ...(convolve && { convolve }) };
  }

  private addAffine(op: Affine): boolean {
    const chain = this.pass.chain;
    if (!this.approximate && absorbsClip(op, this.tail)) {
      chain.push(op);
      return true;
    }
    if (this.reordered || chain.some((c) => c.kind === "normalise")) return false;
    const steps = [...(chain as Affine[]), op];
    if (clipDeviation(this.spatialBox, steps) > CLIP_TOLERANCE) return false;
    chain.push(op);
    this.approximate = true;
    return true;
  }

  /** A median commutes with per-channel increasing maps (clips included): it moves ahead of them. */
  private addMedian(size: number): boolean {
    if (this.pass.median !== undefined || this.pass.convolve) return false;
    const increasing = this.pass.chain.every((op) => op.kind === "normalise" || (isDiagonal(op) && op.matrix.every((row, r) => row[r]! >= 0)));
    if (!increasing) return false;
    this.pass.median = size;
    return true;
  }

  /**
   * A convolution after colour steps that never clip moves ahead of them: conv(M·x + b) =
   * M·conv(x) + b·Σk. It composes with an earlier convolution whose output is in range.
   */
  private addConvolve(kernel: Kernel): boolean {
    const boxes = this.chainBoxes();
    if (!boxes.every(inRange)) return false;
    const sum = kernel.values.reduce((s, v) => s + v, 0);
    this.reordered ||= this.pass.chain.length > 0;
    this.pass.chain = this.pass.chain.map((op) => (op.kind === "affine" ? affine(op.matrix, op.offset.map((v) => v * sum) as Vec3) : op));
    this.pass.convolve = this.pass.convolve ? composeKernels(this.pass.convolve, kernel) : kernel;
    this.spatialBox = kernelBox(this.pass.convolve, FULL);
    return true;
  }
}

/** The passes that run `ops`: consecutive operations share a pass wherever the rules above allow. */
export function planPasses(ops: readonly Op[]): Pass[] {
  const passes: PassBuilder[] = [new PassBuilder()];
  for (const op of ops) {
    if (passes.at(-1)!.add(op)) continue;
    const next = new PassBuilder();
    if (!next.add(op)) throw new Error(`unplannable operation ${op.kind}`);
    passes.push(next);
  }
  return passes.map((p) => p.pass);
}

/**
 * Raw pixels the passes hold, in bytes per pixel of the input: 3 for each picture kept whole
 * between two passes or mapped by a lookup table, 1 for the luma each normalise measures, at the
 * size of that pass's output (4x after an upscale). Summed, though they seldom coexist: one may not
 * have been garbage collected yet when the next is made. A single pass without a lookup holds none.
 */
export function heldBytesPerPixel(passes: readonly Pass[]): number {
  let scale = 1;
  let held = 0;
  passes.forEach((pass, i) => {
    if (pass.upscale2x) scale *= 4;
    held += pass.chain.filter((op) => op.kind === "normalise").length * scale;
    if (pass.lut || i < passes.length - 1) held += 3 * scale;
  });
  return held;
}
