import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

/** Which of our layers each layer may import (docs/design.md: arrows point inward only). */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ["domain"],
  ports: ["ports", "domain"],
  orchestrator: ["orchestrator", "ports", "domain"],
  adapters: ["adapters", "ports", "domain"],
  schema: ["schema", "domain"],
  resolvers: ["resolvers", "schema", "orchestrator", "ports", "domain"],
  server: ["server", "schema", "resolvers", "orchestrator", "ports", "domain"],
};
/** Packages a pure layer may use; the rest of the world is off limits to it. */
const DOMAIN_PACKAGES = ["@noble/hashes", "@noble/curves", "canonicalize"];
const FORBIDDEN_OUTSIDE_ADAPTERS = [
  "mongodb",
  "openai",
  "better-sqlite3",
  "@opentelemetry/sdk-trace",
  "@opentelemetry/exporter-trace-otlp-http",
  "@opentelemetry/exporter-trace-otlp-proto",
];

const walk = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))),
  );
  return nested.flat().filter((f) => /\.tsx?$/.test(f));
};

const importsOf = (source: string) =>
  [...source.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1] as string);

describe("dependency rule", () => {
  it("keeps every import pointing inward", async () => {
    const violations: string[] = [];
    for (const file of await walk(SRC)) {
      const layer = relative(SRC, file).split("/")[0] as string;
      const allowed = ALLOWED[layer];
      for (const spec of importsOf(await readFile(file, "utf8"))) {
        const where = `${relative(SRC, file)} imports ${spec}`;
        if (spec.startsWith(".")) {
          const target = relative(SRC, resolve(file, "..", spec)).split("/")[0] as string;
          if (allowed && !allowed.includes(target)) violations.push(where);
        } else if (
          layer === "domain" &&
          !DOMAIN_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))
        ) {
          violations.push(where);
        } else if (
          allowed &&
          layer !== "adapters" &&
          FORBIDDEN_OUTSIDE_ADAPTERS.some((p) => spec.startsWith(p))
        ) {
          violations.push(where);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("uses ErrorCode for every error code the server sends (no code spelled out elsewhere)", async () => {
    const literals: string[] = [];
    for (const file of await walk(SRC)) {
      const source = await readFile(file, "utf8");
      for (const m of source.matchAll(/extensions:\s*\{[^}]*\bcode:\s*["'`]([A-Z_]+)/g)) {
        literals.push(`${relative(SRC, file)}: ${m[1]}`);
      }
    }
    expect(literals).toEqual([]);
  });

  it("is checked against real imports (the scanner sees them)", async () => {
    const source = await readFile(join(SRC, "orchestrator/orchestrator.ts"), "utf8");
    expect(importsOf(source)).toContain("../domain/errors.js");
  });
});

/** The shared core: the pure domain, which server and client both import. */
const CORE = join(SRC, "domain");
const CLIENT = join(ROOT, "client");
const CLIENT_CLI = join(CLIENT, "cli");
/** Packages the browser-safe client (and the core it imports) may use. */
const CLIENT_PACKAGES = [
  "graphql",
  "graphql-ws",
  "graphql-sse",
  "@graphql-typed-document-node/core",
  ...DOMAIN_PACKAGES,
];

const inside = (dir: string, file: string) => file === dir || file.startsWith(`${dir}/`);
const resolveSpec = (file: string, spec: string) => resolve(file, "..", spec.replace(/\.js$/, ".ts"));

/** Relative imports of each file under `dir` that land outside every allowed folder. */
const strayImports = async (dir: string, allowed: readonly string[], except: readonly string[] = []) => {
  const stray: string[] = [];
  for (const file of await walk(dir)) {
    if (except.some((e) => inside(e, file))) continue;
    for (const spec of importsOf(await readFile(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = resolveSpec(file, spec);
      if (!allowed.some((a) => inside(a, target))) stray.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  return stray;
};

describe("one client for every consumer", () => {
  it("the web view and the scripts import only the client, and the web view not its Node CLI", async () => {
    expect(await strayImports(join(ROOT, "ui/src"), [join(ROOT, "ui/src"), CLIENT])).toEqual([]);
    const uiOnCli: string[] = [];
    for (const file of await walk(join(ROOT, "ui/src"))) {
      for (const spec of importsOf(await readFile(file, "utf8"))) {
        if (spec.startsWith(".") && inside(CLIENT_CLI, resolveSpec(file, spec))) uiOnCli.push(file);
      }
    }
    expect(uiOnCli).toEqual([]);
    expect(await strayImports(join(ROOT, "scripts"), [join(ROOT, "scripts"), CLIENT])).toEqual([]);
  });

  it("the client imports only itself and the shared core", async () => {
    expect(await strayImports(CLIENT, [CLIENT, CORE])).toEqual([]);
  });

  it("everything client/index.ts reaches is browser-safe: client or core, no node:, no Node globals", async () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    const visit = async (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const where = relative(ROOT, file);
      if (!(inside(CLIENT, file) && !inside(CLIENT_CLI, file)) && !inside(CORE, file)) {
        problems.push(`${where} is neither client nor core`);
      }
      const source = await readFile(file, "utf8");
      // Globals a browser lacks (comments stripped, so that prose may name them).
      const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      if (/\b(Buffer|process|require|__dirname)\b/.test(code)) problems.push(`${where} uses a Node global`);
      for (const spec of importsOf(source)) {
        if (spec.startsWith(".")) await visit(resolveSpec(file, spec));
        else if (!CLIENT_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
          problems.push(`${where} imports ${spec}`);
        }
      }
    };
    await visit(join(CLIENT, "index.ts"));
    expect(problems).toEqual([]);
    // The walk really went through the client into the core.
    expect(seen).toContain(join(CORE, "ed25519.ts"));
    expect(seen).toContain(join(CLIENT, "verify.ts"));
  });
});
