/**
 * Every provider face data may go to (the privacy policy's list), one descriptor each. Adding a
 * provider means its folder (with `descriptor.ts`) and one line here; the catalog, the adapter
 * registry, the retention table, the default limits and the README tables all derive from this list.
 * Cold-start safe: descriptors hold data and lazy loaders only (descriptor.ts).
 */
import { bfl } from "./bfl/descriptor.js";
import { cutoutpro } from "./cutoutpro/descriptor.js";
import { gemini } from "./gemini/descriptor.js";
import { kling } from "./kling/descriptor.js";
import { local } from "./local/descriptor.js";
import { minimax } from "./minimax/descriptor.js";
import { openai } from "./openai/descriptor.js";
import { picwish } from "./picwish/descriptor.js";
import { runway } from "./runway/descriptor.js";
import { seedance } from "./seedance/descriptor.js";
import { seedream } from "./seedream/descriptor.js";
import { veo } from "./veo/descriptor.js";
import { wan } from "./wan/descriptor.js";

/** In the order users and admins see them: image providers first, then video-only ones. */
export const DESCRIPTORS = [local, openai, gemini, bfl, seedream, wan, minimax, kling, cutoutpro, picwish, veo, runway, seedance] as const;

type Descriptor = (typeof DESCRIPTORS)[number];
export type ProviderId = Descriptor["id"];
/** Providers with an image adapter. */
export type ImageProviderId = Extract<Descriptor, { loadImage: unknown }>["id"];
