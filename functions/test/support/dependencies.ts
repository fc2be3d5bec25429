/**
 * The one place tests (and the bench) replace a production dependency (src/util/dependencies.ts).
 * `replace` returns the restore. Only
 * types are imported from src here, so importing this module loads no production code.
 */
import type { AccountLookup } from "../../src/privacy/accountGate.js";
import type { AuthUserDeleter } from "../../src/privacy/deleteData.js";
import type { PollEnqueuer } from "../../src/jobs/pollQueue.js";
import type { AdapterLoaders } from "../../src/providers/registry.js";
import type { ProviderId } from "../../src/providers/descriptors.js";
import type { ImageProvider, VideoProvider } from "../../src/providers/types.js";
import type { RateLimiter } from "../../src/util/rateLimiter.js";
import { productionDependency, replaceDependency } from "../../src/util/dependencies.js";

/** Every replaceable dependency, by the name its module declares it under. */
export interface Dependencies {
  accountLookup: AccountLookup;
  authUserDeleter: AuthUserDeleter;
  pollEnqueuer: PollEnqueuer;
  adapterLoaders: AdapterLoaders;
  imageLimiters: Map<string, RateLimiter>;
}

export function replace<K extends keyof Dependencies>(name: K, replacement: Dependencies[K]): () => void {
  return replaceDependency(name, replacement);
}

/** Back to the production value. */
const restore = (name: keyof Dependencies) => void replaceDependency(name, productionDependency(name));

/** Cloud Tasks replaced by `enqueue` (the test drives the polls); undefined restores it. */
export function setPollEnqueuer(enqueue: PollEnqueuer | undefined): void {
  if (enqueue) replace("pollEnqueuer", enqueue);
  else restore("pollEnqueuer");
}

/** Fresh per-instance image limiters, so one test's calls do not delay the next's. */
export const resetImageLimiters = () => void replace("imageLimiters", new Map());

const adapterOverrides = new Map<string, ImageProvider | VideoProvider>();

/** Serves `provider` for one adapter (e.g. to count calls); undefined restores the real one. */
export function overrideProvider(key: `${"image" | "video"}:${ProviderId}`, provider: ImageProvider | VideoProvider | undefined): void {
  if (provider) adapterOverrides.set(key, provider);
  else adapterOverrides.delete(key);
  const real = productionDependency("adapterLoaders") as AdapterLoaders;
  if (adapterOverrides.size === 0) return restore("adapterLoaders");
  replace("adapterLoaders", {
    image: async (id) => (adapterOverrides.get(`image:${id}`) as ImageProvider | undefined) ?? real.image(id),
    video: async (id) => (adapterOverrides.get(`video:${id}`) as VideoProvider | undefined) ?? real.video(id),
  });
}
