/**
 * What a local image job holds as raw pixels (plan.ts heldBytesPerPixel), from its unparsed
 * request: the same effect lists and planner the job will run, so the admission gate's charge
 * follows the effects (pop-art's posterize, enhance's sharpen after normalise, noir's histogram)
 * without naming them; cutout's PNG result is counted apart. Loads no sharp.
 */
import type { HeldPixelsRequest } from "../descriptor.js";
import { cutoutSize } from "./cutoutSize.js";
import { editSteps, enhanceSteps, styleSteps } from "./effects.js";
import { heldBytesPerPixel, planPasses, type Op } from "./plan.js";

/**
 * Cutout streams the photo once, like a style, but its result is an RGBA PNG, not a JPEG of about
 * the file's size: up to 4 bytes a pixel, as deflate cannot shrink a detailed photo's noise. The
 * job holds it twice, as bytes and as the response's base64 string (4/3 of it), and the
 * alpha mask (1) on its way into the final pass: 10.3. Measured (`bench/imageMemory.ts cutout`,
 * docs/CAPACITY.md §2), a 4.7 MP PNG grew +99 to +111 MB against the 114 MB that gives, with a
 * result of only 3.3 bytes a pixel: 12 leaves room for a less compressible photo. Without any, it
 * grew +107 MB against 66, and a 22 MP JPEG +156 to +177 MB against 145. Per pixel of the
 * result: a photo too large for the result cap is cut at a smaller size (cutoutSize.ts).
 */
export const CUTOUT_HELD_BYTES_PER_PIXEL = 12;

export function localHeldBytesPerPixel({ feature, style, prompt, width, height, maxPixels, maxResultBytes }: HeldPixelsRequest): number {
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  let steps: Op[];
  try {
    if (feature === "enhance") steps = enhanceSteps(width, height, maxPixels);
    else if (feature === "style") steps = styleSteps(text(style));
    else if (feature === "edit") steps = editSteps(text(prompt));
    else if (feature === "cutout") {
      const out = cutoutSize(width, height, maxResultBytes);
      return (CUTOUT_HELD_BYTES_PER_PIXEL * out.width * out.height) / (width * height);
    } else return 0; // video is not an image job
  } catch {
    return 0; // a style or prompt the provider refuses before decoding
  }
  return heldBytesPerPixel(planPasses(steps));
}
