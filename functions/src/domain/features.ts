/** What a client may ask for: the shared vocabulary of config, quotas, providers and jobs. */
export const FEATURES = ["edit", "style", "cutout", "enhance", "video"] as const;
export type Feature = (typeof FEATURES)[number];
export type ImageFeature = Exclude<Feature, "video">;
