import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generate, loadCodegenConfig } from "@graphql-codegen/cli";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const COMMITTED = "client/generated/";

let tmp: string | undefined;
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Every file of a directory (not recursive: the client preset writes a flat folder), by name. */
const filesOf = async (dir: string) => {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  return Object.fromEntries(
    await Promise.all(names.sort().map(async (n) => [n, await readFile(join(dir, n), "utf8")] as const)),
  );
};

describe("client/generated", () => {
  it("is what codegen.yml generates from schema.graphql and client/operations (run `npm run gen` when this fails)", {
    timeout: 60_000,
  }, async () => {
    // codegen.yml itself, with only the output folder moved to a temporary directory.
    const { config } = await loadCodegenConfig({ configFilePath: join(ROOT, "codegen.yml") });
    const output = config.generates[COMMITTED];
    if (output === undefined) throw new Error(`codegen.yml no longer generates ${COMMITTED}`);
    tmp = await mkdtemp(join(tmpdir(), "vex-codegen-"));
    const target = `${tmp}/`;
    await generate({ ...config, cwd: ROOT, silent: true, generates: { [target]: output } }, true);

    const fresh = await filesOf(tmp);
    const committed = await filesOf(join(ROOT, COMMITTED));
    expect(Object.keys(fresh).length).toBeGreaterThan(0);
    expect(Object.keys(committed)).toEqual(Object.keys(fresh));
    for (const [name, text] of Object.entries(fresh)) {
      expect(committed[name], `client/generated/${name} is stale: run \`npm run gen\``).toBe(text);
    }
  });
});
