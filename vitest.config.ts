import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// graphql 16 has no "exports" map: Node resolves `import "graphql"` to its CommonJS build, while
// Vite would pick the ESM build from the "module" field. Two copies break `instanceof` checks
// ("Cannot use GraphQLObjectType from another module or realm"), so tests use Node's choice.
const graphqlEntry = fileURLToPath(import.meta.resolve("graphql"));

export default defineConfig({
  // Vite 8 transforms TypeScript with Oxc, which emits legacy decorators and their metadata
  // (type-graphql infers field types from it). Pinned here so files outside tsconfig's
  // "include" get the same transform.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
