/** Every video provider's scripted fake, for the tests that run a video job through each of them. */
import { script as kling } from "./kling.js";
import { script as minimax } from "./minimax.js";
import { script as runway, type VideoScript, type VideoScriptContext } from "./runway.js";
import { script as seedance } from "./seedance.js";
import { script as veo } from "./veo.js";
import { script as wan } from "./wan.js";

export type { VideoScript, VideoScriptContext };

export const VIDEO_SCRIPTS: Record<string, VideoScript> = { veo, runway, kling, minimax, seedance, wan };

/** A small MP4: an `ftyp` box, then filler; enough for the pipeline's type check. */
export const FAKE_MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), Buffer.alloc(12), Buffer.alloc(5000, 7)]);
