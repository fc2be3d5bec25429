/**
 * What generative providers are asked to do per feature. Style presets are named once here (the
 * same ids as the local provider's) and map to an instruction every generative provider
 * understands; an adapter may pass its own overrides. Every instruction asks to keep the person's
 * identity: the product edits people's own photos, it does not invent other faces.
 */
import { AppError } from "../errors.js";
import type { ImageRequest } from "./types.js";

const KEEP_IDENTITY = "Keep the person's face, identity, expression and pose unchanged.";

export const STYLE_PROMPTS: Record<string, string> = {
  noir: "Restyle this photo as a high-contrast black-and-white film noir portrait with dramatic shadows.",
  sepia: "Restyle this photo as an antique sepia-toned photograph.",
  vivid: "Make the colours of this photo vivid and saturated, with punchy contrast.",
  warm: "Give this photo a warm, golden-hour colour grade.",
  cool: "Give this photo a cool, blue-teal cinematic colour grade.",
  sketch: "Redraw this photo as a detailed graphite pencil sketch on white paper.",
  "pop-art": "Restyle this photo as bold pop art with flat saturated colours and halftone dots.",
  vintage: "Make this photo look like a faded 1970s film print with soft grain.",
  watercolor: "Repaint this photo as a loose, soft watercolour painting.",
  "oil-painting": "Repaint this photo as a classical oil painting with visible brush strokes.",
  anime: "Redraw this photo in a clean, modern anime illustration style.",
  "3d-cartoon": "Render this photo as a friendly 3D animated-film character portrait.",
};

const FEATURE_PROMPTS = {
  enhance: "Restore and enhance this photo: remove noise and blur, fix exposure and colour, sharpen details naturally.",
  cutout: "Remove the background completely, leaving only the person on a plain white background.",
} as const;

/** The instruction for a request, or a clear invalid-argument when one is missing or unknown. */
export function instructionFor(req: Pick<ImageRequest, "feature" | "prompt" | "style">, overrides: Partial<Record<string, string>> = {}): string {
  switch (req.feature) {
    case "edit":
      if (!req.prompt) throw new AppError("invalid-argument", "prompt: required for edit", "prompt-missing");
      return `${req.prompt}\n${KEEP_IDENTITY}`;
    case "style": {
      const styles = { ...STYLE_PROMPTS, ...overrides };
      const text = req.style ? styles[req.style] : undefined;
      if (!text) throw new AppError("invalid-argument", `style: unknown preset; available: ${Object.keys(styles).join(", ")}`, "style-unknown");
      return `${text} ${KEEP_IDENTITY}`;
    }
    case "enhance":
    case "cutout":
      return `${overrides[req.feature] ?? FEATURE_PROMPTS[req.feature]} ${KEEP_IDENTITY}`;
  }
}

const VIDEO_DEFAULT = "The person in the photo comes gently to life: a natural smile, a slight head turn, soft blinking, subtle natural camera movement.";

/** The instruction for animating the photo: the user's prompt or a gentle default, keeping the face. */
export const videoInstructionFor = (prompt?: string) => `${prompt?.trim() || VIDEO_DEFAULT} Keep the person's face and identity exactly as in the photo.`;
