/** Our own provider: effects and clips made on our servers; nothing leaves them. */
import { current, defineProvider } from "../descriptor.js";

export const local = defineProvider({
  id: "local",
  name: "Photo Fixer (on our servers)",
  secrets: [],
  isConfigured: () => true,
  models: current("functions/src/providers/local (our own)", "local-effects-1", "local-cutout-1", "local-kenburns-1"),
  retention: {
    retention: "Runs on our own servers: the photo is processed in memory and nothing is kept.",
    source: [],
    deletionByApi: "not-applicable",
  },
  // Runs on our own instances: bound by each instance's CPU and memory, not by an account.
  limits: { source: "our own instances" },
  loadImage: async () => (await import("./index.js")).localProvider,
  loadVideo: async () => (await import("./video.js")).localVideoProvider,
  // Lazy like the adapters: the effects and the planner load on the first createJob, without sharp.
  imageHeldBytesPerPixel: async (request) => (await import("./heldPixels.js")).localHeldBytesPerPixel(request),
  docs: {
    auth: "none",
    imageNotes: "in-process with sharp; the default where no provider key is configured",
    videoNotes:
      "a 4 s H.264 MP4 Ken Burns clip made in 1–3 s with ffmpeg (`@ffmpeg-installer/ffmpeg`, shipped inside its npm package); the photo is piped to ffmpeg from memory; the clip is written into the job's result prefix",
  },
});
