/**
 * What each provider a face may go to says it keeps, and for how long: shown to users by
 * exportMyData, one entry per provider of catalog.ts (the compiler refuses a missing one). Each
 * statement is taken from our notes on the provider's documentation in `shared/providers/`
 * (section 6, "Data retention", of the file cited in `source`); "unconfirmed" means those notes
 * found no statement. Update both together. Pure data: the triggers import it to bind secrets.
 */
import { PROVIDERS, type ProviderId } from "./catalog.js";

export interface ProviderDataPractice {
  /** The provider's stated retention of what we send it and what it returns, in plain words. */
  retention: string;
  /** Where the statement comes from: files under shared/providers/ (section 6 of each). */
  source: string[];
  /**
   * What deletion can ask the provider's API for (video tasks, by their task id): `cancel-and-delete`
   * (a running task is cancelled, a finished one deleted), `cancel-pending` (only a task not yet
   * started), `none` (no API for it), or `not-applicable` (nothing leaves our servers, or nothing is
   * kept by task). providers/retention.test.ts checks this against the adapters.
   */
  deletionByApi: "cancel-and-delete" | "cancel-pending" | "none" | "not-applicable";
}

export const PROVIDER_DATA_PRACTICES = {
  local: {
    retention: "Runs on our own servers: the photo is processed in memory and nothing is kept.",
    source: [],
    deletionByApi: "not-applicable",
  },
  openai: {
    retention:
      "Abuse-monitoring logs (which may hold prompts, responses and derived metadata) are kept up to 30 days by default, longer where the law requires; API data is not used for training by default.",
    source: ["openai-gpt-image.md"],
    deletionByApi: "not-applicable",
  },
  gemini: {
    retention:
      "Inputs may be cached up to 24 hours in the serving data centre; if abuse classifiers flag a request, prompts may be logged up to 90 days; not used for training without permission.",
    source: ["google-gemini-image.md"],
    deletionByApi: "not-applicable",
  },
  bfl: {
    retention: "No retention period stated in its API documentation (unconfirmed); results are reachable only through a 10-minute signed URL.",
    source: ["bfl-kontext.md"],
    deletionByApi: "not-applicable",
  },
  seedream: {
    retention: "No retention statement found (unconfirmed); result URLs live 24 hours.",
    source: ["bytedance-seedream.md"],
    deletionByApi: "not-applicable",
  },
  wan: {
    retention:
      "Task data and results are deleted after 24 hours and stored in the selected region; retention of inputs is unconfirmed. A video task not yet started can be cancelled.",
    source: ["alibaba-wan-image.md", "alibaba-wan-video.md"],
    deletionByApi: "cancel-pending",
  },
  minimax: {
    retention: "No retention statement found for inputs or results (unconfirmed); result URLs expire after 24 hours.",
    source: ["minimax-image.md", "minimax-hailuo.md"],
    deletionByApi: "none",
  },
  kling: {
    retention: "Generated images and videos are deleted after 30 days; retention of inputs is unconfirmed.",
    source: ["kling-image.md", "kling-video.md"],
    deletionByApi: "none",
  },
  cutoutpro: {
    retention:
      "Its general API retention statement could not be confirmed; one API page says an input's temporary URL is kept for logging only and deleted after a few moments.",
    source: ["cutout-pro.md"],
    deletionByApi: "not-applicable",
  },
  picwish: {
    retention: "Results are kept up to 1 hour; retention of inputs is unconfirmed.",
    source: ["cutout-pro.md"],
    deletionByApi: "not-applicable",
  },
  veo: {
    retention:
      "Not used for training without permission; prompts may be logged for abuse monitoring (period unconfirmed). Videos are written straight into our own storage and deleted by us.",
    source: ["google-veo.md"],
    deletionByApi: "none",
  },
  runway: {
    retention:
      "Retention period unconfirmed; deleting a task deletes its outputs under Runway's retention policy. We delete each task as soon as we have the video, and on deletion of your data.",
    source: ["runway.md"],
    deletionByApi: "cancel-and-delete",
  },
  seedance: {
    retention:
      "Output URLs live 24 hours; task records can be queried for a limited time (unconfirmed). We delete each task as soon as we have the video, and on deletion of your data.",
    source: ["bytedance-seedance.md"],
    deletionByApi: "cancel-and-delete",
  },
} satisfies Record<ProviderId, ProviderDataPractice>;

/** Where `source` files live, relative to the repository root. */
export const PROVIDER_DOCS_DIR = "../shared/providers";

/**
 * Keys the deletion paths (deleteMyData, onUserDeleted) need to cancel or delete provider tasks,
 * and nothing more: only providers whose API offers it.
 */
export const PROVIDER_DELETION_SECRETS = [
  ...new Set(
    (Object.keys(PROVIDER_DATA_PRACTICES) as ProviderId[])
      .filter((id) => ["cancel-and-delete", "cancel-pending"].includes(PROVIDER_DATA_PRACTICES[id].deletionByApi))
      .flatMap((id) => PROVIDERS[id].secrets),
  ),
];
