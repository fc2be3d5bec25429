/**
 * What a local image job holds as raw pixels (plan.ts heldBytesPerPixel), from its unparsed
 * request: the same effect lists and planner the job will run, so the admission gate's charge
 * follows the effects (pop-art's posterize, enhance's sharpen after normalise, noir's histogram)
 * without naming them. Loads no sharp.
 */
import type { HeldPixelsRequest } from "../descriptor.js";
import { editSteps, enhanceSteps, styleSteps } from "./effects.js";
import { heldBytesPerPixel, planPasses, type Op } from "./plan.js";

export function localHeldBytesPerPixel({ feature, style, prompt, width, height, maxPixels }: HeldPixelsRequest): number {
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  let steps: Op[];
  try {
    if (feature === "enhance") steps = enhanceSteps(width, height, maxPixels);
    else if (feature === "style") steps = styleSteps(text(style));
    else if (feature === "edit") steps = editSteps(text(prompt));
    else return 0; // cutout holds a small analysis copy; video is not an image job
  } catch {
    return 0; // a style or prompt the provider refuses before decoding
  }
  return heldBytesPerPixel(planPasses(steps));
}
