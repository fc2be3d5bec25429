// dependency-cruiser: the layers of functions/src, as ARCHITECTURE.md draws them, checked on every
// `npm test` (`npm run depcruise`). Adjust the architecture here: LAYERS lists each layer top to
// bottom with the folders in it; a module may import its own layer or any layer below, never above.
// There is no baseline of tolerated violations: any violation fails with the offending import printed.
const SRC = "^functions/src/";

/** Top to bottom. `paths` are regexes relative to the repository root. */
const LAYERS = [
  { name: "triggers", paths: [`${SRC}triggers/`, `${SRC}index\\.ts$`] },
  // The client contract describes requests and answers for scripts/docs-api; only scripts and tests import it.
  { name: "contract", paths: [`${SRC}contract/`] },
  { name: "services", paths: [`${SRC}(jobs|privacy|uploads|stats|quotas|capacity)/`] },
  { name: "storage, providers, images", paths: [`${SRC}(storage|providers|images)/`] },
  // domain/ is the shared vocabulary (features, job statuses) every layer above may name.
  { name: "domain, config, logging, errors, util", paths: [`${SRC}(domain|config|logging|util)/`, `${SRC}(errors|admin)\\.ts$`] },
];

const upwardImports = LAYERS.slice(1).map((layer, index) => {
  const below = LAYERS.slice(index + 2).map((l) => l.name);
  return {
    name: `layer-${layer.name.replace(/\W+/g, "-")}-imports-above`,
    severity: "error",
    comment: `${layer.name} may import only ${below.length ? `its own layer and those below: ${below.join("; ")}` : "its own layer"}`,
    from: { path: layer.paths },
    to: { path: LAYERS.slice(0, index + 1).flatMap((l) => l.paths) },
  };
});

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    ...upwardImports,
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle ties modules together so neither can be understood, tested or moved alone. A lazy import() is not an edge: a provider descriptor loads its adapter on first use, and the adapter may read the catalog the descriptor is listed in",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["dynamic-import"] } },
    },
    {
      name: "jobs-not-privacy",
      severity: "error",
      comment: "jobs/ never imports privacy/: storage paths and transient objects live in storage/, which both use",
      from: { path: `${SRC}jobs/` },
      to: { path: `${SRC}privacy/` },
    },
    {
      name: "config-quotas-not-providers",
      severity: "error",
      comment: "config/ and quotas/ do not import providers/: shared vocabulary (FEATURES) lives in domain/, below both",
      from: { path: `${SRC}(config|quotas)/` },
      to: { path: `${SRC}providers/` },
    },
    {
      name: "module-outside-layers",
      severity: "error",
      comment: "Every module of functions/src belongs to a layer: add its folder to LAYERS in .dependency-cruiser.cjs",
      from: { path: SRC, pathNot: LAYERS.flatMap((l) => l.paths) },
      to: {},
    },
  ],
  options: {
    // Tests may reach into any layer; the rules are about the deployed code.
    includeOnly: SRC,
    exclude: { path: "\\.test\\.ts$" },
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: they couple modules as much as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "functions/tsconfig.json" },
  },
};
