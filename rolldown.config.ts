import { defineConfig } from "rolldown";

/**
 * The server as it is run (`node dist/server/main.js`): the compiled server (dist/src, from tsc) and
 * the packages every configuration loads, bundled into one module and a few lazily loaded chunks.
 * Unbundled, a start resolves and compiles ~1,200 files under node_modules; bundled, a handful, which
 * halves the time from spawn to ready (docs/operations.md, "Starting fast").
 *
 * Left as packages, resolved from node_modules at run time:
 * - better-sqlite3: a native addon, found next to its package;
 * - the libraries of the backends a configuration chooses (src/app loads them on demand): the
 *   MongoDB driver, ioredis and BullMQ, the OpenAI SDK and OpenTelemetry (whose API keeps one global
 *   registry that the SDK's own copy must share);
 * - class-validator, which type-graphql imports only when its own validation is on (arguments are
 *   validated with zod here) and which is not installed.
 */
export const PACKAGES = [
  "better-sqlite3",
  "mongodb",
  "ioredis",
  "bullmq",
  "openai",
  "@opentelemetry/",
  "class-validator",
];

/** A package named in PACKAGES, or a module of one; a trailing slash names a scope. */
export const isPackage = (id: string) =>
  PACKAGES.some((name) =>
    name.endsWith("/") ? id.startsWith(name) : id === name || id.startsWith(`${name}/`),
  );

export default defineConfig({
  input: "dist/src/main.js",
  platform: "node",
  external: isPackage,
  output: {
    dir: "dist/server",
    format: "esm",
    // type-graphql names the schema's types after their classes.
    keepNames: true,
    sourcemap: true,
    cleanDir: true,
  },
});
