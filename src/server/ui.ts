import { existsSync } from "node:fs";
import { dirname, extname, join, parse } from "node:path";
import { fileURLToPath } from "node:url";
import express, { type NextFunction, type Request, type Response, type Router } from "express";

/** Where the web view is served. */
export const UI_PATH = "/ui";

/** Cache lifetime of the content-hashed files under assets/ (their names change with their content). */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html and other unhashed files: always revalidated (ETag / Last-Modified), so a rebuild shows at once. */
const REVALIDATE = "no-cache";

/**
 * The page's CSP: everything from this server, the GraphQL WebSocket included; no inline scripts, no
 * third-party origins. Inline style attributes are allowed for computed widths (bars, swatches).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * dist/ui of the package this file belongs to: the nearest folder above it with a package.json, so the
 * same answer comes from src/server (tests, tsx) and from dist/src/server (the built server).
 */
export const defaultUiDir = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  const { root } = parse(dir);
  while (!existsSync(join(dir, "package.json")) && dir !== root) dir = dirname(dir);
  return join(dir, "dist", "ui");
};

export interface UiOptions {
  /** The built UI (Vite's outDir). Default: {@link defaultUiDir}. */
  readonly dir?: string;
  /** Told once when the UI is not built. Default: a process warning (stderr). */
  readonly warn?: (message: string) => void;
}

let warnedMissing = false;
const processWarning = (message: string) => {
  // Once per process: tests start many servers.
  if (warnedMissing) return;
  warnedMissing = true;
  process.emitWarning(message, { code: "VEX_UI_NOT_BUILT" });
};

const securityHeaders = (res: Response) => {
  res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
};

/**
 * The web view, mounted at {@link UI_PATH}: the static files Vite built (hashed assets cached for a year,
 * everything else revalidated), and index.html for the page's own routes (/ui/runs/…, /ui/evolution) so
 * that a reload or a shared link works. Unknown files (anything with an extension, anything under
 * assets/) are 404, never index.html. Without a build the server still starts: /ui answers 404 saying
 * how to build it.
 */
export const serveUi = (options: UiOptions = {}): Router => {
  const dir = options.dir ?? defaultUiDir();
  const index = join(dir, "index.html");
  const router = express.Router();

  if (!existsSync(index)) {
    (options.warn ?? processWarning)(
      `The web UI is not built (no ${index}): ${UI_PATH} answers 404. Run \`npm run build\` (or \`npm run ui:build\`) and restart.`,
    );
    router.use((_req, res) => {
      res
        .status(404)
        .type("text/plain")
        .setHeader("Cache-Control", "no-store")
        .send(
          "The VEX web UI is not built on this server.\nRun `npm run build` (or `npm run ui:build`) in the project, then restart the server.\n",
        );
    });
    return router;
  }

  router.use((_req, res, next) => {
    securityHeaders(res);
    next();
  });
  router.use(
    express.static(dir, {
      index: "index.html",
      fallthrough: true,
      redirect: true,
      dotfiles: "ignore",
      setHeaders: (res, path) => {
        res.setHeader("Cache-Control", path.startsWith(join(dir, "assets")) ? IMMUTABLE : REVALIDATE);
      },
    }),
  );
  // Client-side routes: paths without a file extension outside assets/ get the page.
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    if (req.path.startsWith("/assets/") || extname(req.path) !== "") {
      res.status(404).type("text/plain").setHeader("Cache-Control", "no-store").send("Not found\n");
      return;
    }
    res.setHeader("Cache-Control", REVALIDATE);
    res.sendFile(index, (err) => {
      if (err) next(err);
    });
  });
  return router;
};
