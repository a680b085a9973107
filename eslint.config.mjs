// Lint for what the type checker cannot see: promises nobody awaits, or handed to a callback that
// expects nothing back (a rejection lost, work that finishes after its answer), plus ESLint's and
// typescript-eslint's recommended sets. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  // generated (scripts/check-gen.mjs checks gen/), vendored, or build and test output
  globalIgnores(["gen/", "third_party/", "dist/", "test-artifacts/", ".run/", ".nats-data/"]),
  js.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // each file is checked with the tsconfig.json nearest to it (the console's browser code has its own)
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The point of this config: every promise is awaited, returned, or marked `void` with the reason
      // it may run on its own; none goes where a void callback is expected (an event handler, a timer).
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",

      // Parsed JSON, test bodies and third-party payloads are `any` on purpose and checked by the
      // code that reads them; the no-unsafe family would flag over 500 such reads, drowning the rest.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      // `list[0]!` says "there is one here" and stays right under noUncheckedIndexedAccess
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
      // our objects are closures made by createX(), not classes: passing `ctx.note` around is safe,
      // and the rule cannot tell a closure from a method that needs its `this`
      "@typescript-eslint/unbound-method": "off",
      // an async method that does not await yet still honours its interface's Promise contract
      "@typescript-eslint/require-await": "off",
      // tsc's noUnusedLocals already fails the build on these (one place to say it)
      "@typescript-eslint/no-unused-vars": "off",
      // String(v) of a JSON value narrowed from unknown (`{}`) is what we mean; the rule takes it for an object
      "@typescript-eslint/no-base-to-string": "off",
      // an error passed through as it came (`Promise.reject(err)` of a caught `unknown`) is not a new rejection
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
      // arrays read well as "a,b,c" in assertion messages
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowAny: true, allowBoolean: true, allowNullish: true, allowNumber: true, allowRegExp: true, allowArray: true },
      ],
    },
  },
  {
    // plain Node scripts, run without tsx
    files: ["scripts/**/*.mjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        fetch: "readonly",
        AbortSignal: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
  },
  {
    // Swagger UI's start-up script, served to the browser as it is
    files: ["services/gateway/docs/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { window: "readonly", document: "readonly", fetch: "readonly", SwaggerUIBundle: "readonly" },
    },
  },
);
