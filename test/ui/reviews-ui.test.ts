import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OrchestrationDocument,
  PendingReviewsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { request } from "../support/graphql.js";
import { bearer, createTestKey } from "../support/keys.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";
import { waitFor } from "../support/wait.js";

/** The Reviews page in Debian's Chromium (driven by playwright-core) against the real server and offline LLM. */

const ROOT = resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const UI_DIR = join(ROOT, "dist/ui");
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";

const newestMtime = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
    const path = join(dir, e.name);
    return Math.max(newest, e.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }, 0);

const ensureUiBuilt = () => {
  const index = join(UI_DIR, "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, "ui"))) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", "ui/vite.config.ts"],
    { cwd: ROOT, stdio: "pipe" },
  );
};

describe.skipIf(!hasChromium && !inCi)("Reviews page in Chromium", () => {
  let server: TestServer;
  let dataDir: string;
  let key: { key: string; id: string };
  let browser: Browser;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: install Debian's chromium.`);
    ensureUiBuilt();
    dataDir = await makeDataDir();
    key = await createTestKey(dataDir, "ui-reviews");
    server = await startTestServer({ dataDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await removeDir(dataDir);
  });

  it("lists a pending review and approves it: the run finishes with the person's HUMAN vote", async () => {
    const auth = bearer(key.key);
    const { startOrchestration: run } = await request(
      server.url,
      StartOrchestrationDocument,
      { input: { query: "Should this answer be released?", review: { when: "FINAL" } } },
      auth,
    );
    await waitFor(
      async () =>
        (await request(server.url, PendingReviewsDocument, { first: 10 }, auth)).pendingReviews.edges
          .length === 1,
      { timeoutMs: 60_000, intervalMs: 50 },
    );

    const page = await browser.newPage();
    const origin = new URL(server.url).origin;
    await page.addInitScript(`sessionStorage.setItem("vex.apiKey", ${JSON.stringify(key.key)})`);
    // The run's page says it waits and leads to the Reviews page.
    await page.goto(`${origin}/ui/runs/${encodeURIComponent(run.id)}`);
    await page.getByTestId("review-link").click();
    await page.waitForURL(/\/ui\/reviews$/);
    const card = page.getByTestId("review-card");
    await card.waitFor();
    expect(await card.count()).toBe(1);
    await page.getByTestId("review-comment").fill("released after reading");
    await page.getByTestId("approve").click();
    await page.getByTestId("no-reviews").waitFor({ timeout: 30_000 });

    await waitFor(
      async () =>
        (await request(server.url, OrchestrationDocument, { id: run.id }, auth)).orchestration?.status ===
        "SUCCEEDED",
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const done = (await request(server.url, OrchestrationDocument, { id: run.id }, auth)).orchestration;
    const root = done?.agents.find((a) => a.role === "ROOT");
    expect(root?.result?.debate.votes.at(-1)).toMatchObject({
      voter: "HUMAN",
      decision: "APPROVE",
      keyId: key.id,
      comment: "released after reading",
    });
  }, 120_000);
});
