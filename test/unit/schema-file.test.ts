import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { printVexSchema } from "../../src/server/print-schema.js";

describe("schema.graphql", () => {
  it("is what the code-first schema prints (run `npm run gen` when this fails)", async () => {
    const committed = await readFile(resolve(import.meta.dirname, "../../schema.graphql"), "utf8");
    expect(committed).toBe(await printVexSchema());
  });
});
