import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

/** Which of our layers each layer may import (DESIGN.md §2: arrows point inward only). */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ["domain"],
  ports: ["ports", "domain"],
  orchestrator: ["orchestrator", "ports", "domain"],
  adapters: ["adapters", "ports", "domain"],
  schema: ["schema", "domain"],
  resolvers: ["resolvers", "schema", "orchestrator", "ports", "domain", "server"],
  server: ["server", "schema", "resolvers", "orchestrator", "ports", "domain"],
};
/** Packages a pure layer may use; the rest of the world is off limits to it. */
const DOMAIN_PACKAGES = ["@noble/hashes", "canonicalize", "node:crypto"];
const FORBIDDEN_OUTSIDE_ADAPTERS = ["mongodb", "openai", "better-sqlite3"];

const walk = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))),
  );
  return nested.flat().filter((f) => f.endsWith(".ts"));
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

  it("is checked against real imports (the scanner sees them)", async () => {
    const source = await readFile(join(SRC, "orchestrator/orchestrator.ts"), "utf8");
    expect(importsOf(source)).toContain("../domain/errors.js");
  });
});
