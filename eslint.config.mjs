// ESLint (flat config) with typescript-eslint's type-aware rules, over the program of
// functions/tsconfig.check.json: functions/src, functions/test, local/, bench/, scripts/.
// Run `npm run lint` at the root. Type-aware because only the type checker can tell that an
// expression is a promise, and a promise left floating in a Cloud Function is work lost once the
// response is sent (the instance may be throttled or stopped right after).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Calls whose promise may float: node:test's test()/describe() return one that the runner awaits itself. */
const TEST_RUNNER_CALLS = [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite", "before", "after", "beforeEach", "afterEach"] }];

export default tseslint.config(
  { ignores: ["**/node_modules/**", "functions/lib/**", "web/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ["functions/tsconfig.check.json"], tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // What this config is for: a promise is awaited, returned, or `void`ed with a comment saying
      // why it may float; and no promise goes where a void callback is expected (an event
      // handler's rejection would be unhandled).
      "@typescript-eslint/no-floating-promises": ["error", { allowForKnownSafeCalls: TEST_RUNNER_CALLS }],
      "@typescript-eslint/no-misused-promises": "error",

      // Turned off: style noise, no bug found by them here.
      // - `xs[i]!` is written on purpose to say "this index exists"; without noUncheckedIndexedAccess
      //   tsc calls the `!` unnecessary (~360 hits, all of that kind).
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
      // - An async function without await still returns a promise, as its interface asks (~70 hits).
      "@typescript-eslint/require-await": "off",
      // - Firestore's DocumentData and JSON.parse are `any` by design; outside input is parsed with
      //   zod where it enters (STYLE.md). Reading `any` was flagged ~270 times, nearly all in tests;
      //   returning or calling `any` (no-unsafe-return/-call) stays an error in src/.
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      // - The functions compile to CommonJS; the few require() calls are deliberate lazy loads of
      //   CommonJS-only packages (libheif-js, @ffmpeg-installer/ffmpeg).
      "@typescript-eslint/no-require-imports": "off",
      // - The regexes that match control characters exist to find control characters.
      "no-control-regex": "off",

      // Tuned rather than off.
      // - Rejecting with a caught `unknown`/aborted `signal.reason` passes the original error on.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
      // - `_name` marks a deliberately unused binding; `{ drop, ...rest }` drops a key.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
      // - `let x!: T` assigned after a closure that reads it is the way to refer to an object from its own callbacks.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // - URLSearchParams (Node's global) stringifies to a query string.
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        {
          allow: [
            { from: "lib", name: ["Error", "URL", "URLSearchParams"] },
            { from: "package", package: "url", name: ["URLSearchParams"] },
          ],
        },
      ],
    },
  },
  {
    // Tests, the local stack, benchmarks and scripts poke at `any` data (parsed JSON, raw documents,
    // wire fakes) on purpose, and read methods off objects to wrap or restore them.
    files: ["functions/test/**", "functions/src/**/*.test.ts", "local/**", "bench/**", "scripts/**"],
    rules: {
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/unbound-method": "off",
      "@typescript-eslint/no-base-to-string": "off",
      "@typescript-eslint/no-redundant-type-constituents": "off",
    },
  },
  {
    // The offline Firestore server compares protobuf enum fields with their wire numbers.
    files: ["local/firestore-server.ts"],
    rules: { "@typescript-eslint/no-unsafe-enum-comparison": "off" },
  },
);
