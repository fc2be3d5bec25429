/**
 * The process-wide replaceable dependencies, one mechanism instead of a setter per module.
 *
 * Why not parameters: the in-process tests run the real triggers (`fn.run(request)`, the Cloud
 * Tasks handler, the Auth trigger), so what they must swap sits calls below any argument they
 * hold: the Firebase Auth lookup and deletion (no Auth emulator runs in-process), the Cloud Tasks
 * enqueuer, a provider adapter, the per-instance image limiters. Where a caller can pass a
 * dependency (the token verifiers, the account check in entryGuard.ts) it is a parameter instead.
 * Why not one `deps` object here: this module is in the bottom layer and may not name the
 * services' types (.dependency-cruiser.cjs), so each dependency is declared where it belongs,
 * `dependency(name, production)`, and read there with `.get()`. Production code never replaces
 * one: test/support/dependencies.ts does, typed and restorable.
 */

export interface Dependency<T> {
  readonly name: string;
  get(): T;
}

const production = new Map<string, unknown>();
const replacements = new Map<string, unknown>();

/** Declares a dependency with its production value; `name` is unique in the process. */
export function dependency<T>(name: string, productionValue: T): Dependency<T> {
  production.set(name, productionValue);
  return { name, get: () => (replacements.has(name) ? replacements.get(name) : productionValue) as T };
}

/** TESTS ONLY (through test/support/dependencies.ts): swaps a dependency; returns the restore. */
export function replaceDependency(name: string, replacement: unknown): () => void {
  replacements.set(name, replacement);
  return () => void replacements.delete(name);
}

/** TESTS ONLY: the production value, for a replacement that delegates to it. */
export const productionDependency = (name: string): unknown => production.get(name);
