import { mkdir, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { serveUi, UI_PATH } from "../../src/server/ui.js";
import { makeDataDir, removeDir } from "../support/server.js";

/** src/server/ui.ts on its own: static files, client-route fallback, cache headers, and no build. */
describe("serveUi", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  const listen = async (dir: string, warn: (m: string) => void = () => {}) => {
    const app = express();
    app.use(UI_PATH, serveUi({ dir, warn }));
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const builtUi = async () => {
    const dir = await makeDataDir();
    cleanups.push(() => removeDir(dir));
    await mkdir(join(dir, "assets"));
    await writeFile(join(dir, "index.html"), "<!doctype html><title>vex</title>");
    await writeFile(join(dir, "assets/index-abc123.js"), "console.log(1)");
    return dir;
  };

  it("serves index.html for the page's routes, revalidated, with a strict CSP", async () => {
    const base = await listen(await builtUi());
    for (const path of ["/ui/", "/ui/runs/abc", "/ui/evolution"]) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await res.text()).toContain("<title>vex</title>");
    }
  });

  it("caches hashed assets for a year and answers 404 (not the page) for missing files", async () => {
    const base = await listen(await builtUi());
    const js = await fetch(`${base}/ui/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await fetch(`${base}/ui/assets/gone-123.js`)).status).toBe(404);
    expect((await fetch(`${base}/ui/favicon.ico`)).status).toBe(404);
  });

  it("answers 404 with how to build it, and says so once, when the UI is not built", async () => {
    const warnings: string[] = [];
    const base = await listen("/nonexistent/vex-ui", (m) => warnings.push(m));
    const res = await fetch(`${base}/ui/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("npm run build");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("not built");
  });
});
