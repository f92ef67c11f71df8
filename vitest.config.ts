import { defineConfig } from "vitest/config";

export default defineConfig({
  // Vite 8 transforms TypeScript with Oxc, which emits legacy decorators and their metadata
  // (type-graphql infers field types from it). Pinned here so files outside tsconfig's
  // "include" get the same transform.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
