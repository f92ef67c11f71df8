import { relative, resolve, sep } from "node:path";
import { build, type Rollup } from "vite";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
/** What a browser bundle of the client may contain: the client (not its Node CLI) and the shared core. */
const OURS = [/^client\/(?!cli\/).*\.ts$/, /^src\/domain\/[^/]+\.ts$/];
/** Packages it may pull in: GraphQL, graphql-ws, graphql-sse, and the core's pure-JavaScript hashing and signing. */
const PACKAGES = ["graphql", "graphql-ws", "graphql-sse", "@noble/hashes", "@noble/curves", "canonicalize"];

const packageOf = (id: string) => {
  const path = id.split(`node_modules${sep}`).at(-1) ?? "";
  const [scope = "", name = ""] = path.split(sep);
  return scope.startsWith("@") ? `${scope}/${name}` : scope;
};

/**
 * The client ships on its own: a frontend that installs the package and imports `vex-graphql/client`
 * bundles client/index.ts for the browser. Built here as a bundler would (Vite's library mode, for the
 * browser platform, nothing external): the bundle holds no server code and no Node module.
 */
describe("the client bundled for the browser", () => {
  it("holds only the client and the core, and no node: import or browser stub", async () => {
    const result = await build({
      configFile: false,
      logLevel: "silent",
      root: ROOT,
      build: {
        write: false,
        minify: false,
        target: "es2022",
        lib: { entry: resolve(ROOT, "client/index.ts"), formats: ["es"], fileName: "vex-client" },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result as Rollup.RollupOutput]).flatMap(
      (r) => r.output,
    );
    const chunks = outputs.filter((o): o is Rollup.OutputChunk => o.type === "chunk");
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks as [Rollup.OutputChunk];

    const ids = chunk.moduleIds.filter((id) => !id.startsWith("\0"));
    const ours = ids.filter((id) => !id.includes(`node_modules${sep}`)).map((id) => relative(ROOT, id));
    expect(ours.filter((file) => !OURS.some((re) => re.test(file)))).toEqual([]);
    expect(ours).toEqual(
      expect.arrayContaining(["client/index.ts", "client/verify.ts", "src/domain/ed25519.ts"]),
    );
    const packages = new Set(ids.filter((id) => id.includes(`node_modules${sep}`)).map(packageOf));
    expect([...packages].filter((p) => !PACKAGES.includes(p))).toEqual([]);

    // Vite replaces a Node built-in it meets with a stub that throws in the browser: there is none.
    expect(chunk.code).not.toMatch(/from\s*["']node:|import\(["']node:|__vite-browser-external/);
    expect(chunk.imports).toEqual([]);
    expect(chunk.dynamicImports).toEqual([]);
    // The public surface is there.
    for (const name of [
      "createVexClient",
      "verifyRun",
      "foldRunEvents",
      "agentTree",
      "OrchestrationEventsDocument",
    ]) {
      expect(chunk.exports).toContain(name);
    }
  }, 60_000);
});
