import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GenePoolDocument,
  OrchestrationDocument,
  OrchestrationEventLogDocument,
  OrchestrationsDocument,
  StartOrchestrationDocument,
} from "../../client/generated/graphql.js";
import { createOfflineLlm } from "../../src/adapters/offline-llm/offline-llm.js";
import { slowed } from "../fakes/slow-llm.js";
import { request } from "../support/graphql.js";
import { bearer, createTestKey } from "../support/keys.js";
import { makeDataDir, removeDir, startTestServer, type TestServer } from "../support/server.js";

/**
 * The web view (/ui) in a real browser: Debian's Chromium (installed by .ci/run), driven by
 * playwright-core — never a browser Playwright downloads. The real server runs the offline LLM,
 * slowed so that the page has a live run to show.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const UI_DIR = join(ROOT, "dist/ui");
const ARTIFACTS = join(ROOT, "test-artifacts");
/** The README's screenshot: rewritten only when UPDATE_UI_SCREENSHOT=1 (it is committed). */
const README_SHOT = join(ROOT, "docs/ui.png");

/** The flags the machine notes give: no background networking on a machine without internet. */
const CHROMIUM_ARGS = [
  "--no-sandbox", // root in CI
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";

const newestMtime = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
    const path = join(dir, e.name);
    return Math.max(newest, e.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }, 0);

/** `npm run build` builds dist/ui; a test run without it (or after editing ui/) builds it here. */
const ensureUiBuilt = () => {
  const index = join(UI_DIR, "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, "ui"))) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", "ui/vite.config.ts"],
    {
      cwd: ROOT,
      stdio: "pipe",
    },
  );
};

// In CI a missing Chromium fails the run (below); elsewhere the suite says why it did not run.
describe.skipIf(!hasChromium && !inCi)("web view in Chromium", () => {
  let server: TestServer;
  let dataDir: string;
  let key: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];
  let runId = "";

  beforeAll(async () => {
    if (!hasChromium) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (.ci/run does: apt-get install -y chromium).`,
      );
    }
    ensureUiBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = await makeDataDir();
    // A key exists, so the server requires one: the page must ask for it.
    key = (await createTestKey(dataDir, "ui-tenant")).key;
    server = await startTestServer({
      dataDir,
      llm: slowed(createOfflineLlm(), { tokenDelayMs: 12, firstTokenMs: 80 }),
    });
    origin = new URL(server.url).origin;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    // Nothing but the server that served the page: no CDN, no fonts, no telemetry.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
      offOrigin.push(url);
      return route.abort();
    });
    page.on("pageerror", (e) => pageErrors.push(String(e)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await removeDir(dataDir);
  });

  it("serves the page, with index.html for client routes and immutable hashed assets", async () => {
    const res = await fetch(`${origin}/ui/evolution`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await res.text();
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${origin}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${origin}/ui/assets/missing.js`)).status).toBe(404);
  });

  it("asks for the API key on 401 and keeps it for the session", async () => {
    await page.goto(`${origin}/ui/runs`);
    const error = page.getByTestId("error");
    await error.waitFor();
    expect(await error.getAttribute("data-code")).toBe("UNAUTHENTICATED");
    expect(await error.textContent()).toContain("401");
    await error.getByTestId("api-key-input").fill(key);
    await error.getByTestId("api-key-save").click();
    await page.getByText("No runs yet").waitFor();
    // A string: this file is compiled without the DOM's types.
    expect(await page.evaluate('sessionStorage.getItem("vex.apiKey")')).toBe(key);
    expect(await page.getByTestId("api-key-button").textContent()).toContain(key.slice(0, 8));
  });

  it("starts a run and shows it live: the tree, debate rounds, tokens, then the final answer", async () => {
    await page.getByTestId("nav-new-run").click();
    await page.getByTestId("query-input").fill("Why do Merkle trees make audit logs tamper-evident?");
    await page.locator('select[name="maxDepth"]').selectOption("3");
    await page.locator('select[name="agentsPerLevel"]').selectOption("2");
    await page.locator('select[name="maxDebateRounds"]').selectOption("2");
    await page.locator('select[name="consensus"]').selectOption("MAJORITY");
    await page.locator('select[name="evolution"]').selectOption("GENETIC");
    await page.getByTestId("start-button").click();

    await page.waitForURL(/\/ui\/runs\/[^/]+$/);
    runId = decodeURIComponent(new URL(page.url()).pathname.split("/").at(-1) ?? "");
    expect(runId).not.toBe("");

    // Live: the feed is live, some agent is working and its tokens stream in.
    await page.getByTestId("feed").filter({ hasText: "live" }).waitFor();
    await page
      .locator('[data-testid="agent"][data-state="RUNNING"], [data-testid="agent"][data-state="DEBATING"]')
      .first()
      .waitFor();
    await page.getByTestId("tokens").first().waitFor();
    expect((await page.getByTestId("tokens").first().textContent())?.length ?? 0).toBeGreaterThan(0);
    await page.getByTestId("debate-round").first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, "ui-run-live.png"), fullPage: true });

    await page.getByTestId("run-status").filter({ hasText: "SUCCEEDED" }).waitFor({ timeout: 90_000 });
    await page.getByTestId("final-answer").waitFor();

    const api = await request(server.url, OrchestrationDocument, { id: runId }, bearer(key));
    const run = api.orchestration;
    expect(run?.status).toBe("SUCCEEDED");
    if (!run) return;

    // The tree: root, 2 children, 4 grandchildren; every one completed, with its confidence and badge.
    const agents = page.getByTestId("agent");
    await expect.poll(() => agents.count()).toBe(7);
    const shown = await agents.evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute("data-agent-id"),
        role: el.getAttribute("data-role"),
        state: el.getAttribute("data-state"),
        depth: Number(el.getAttribute("data-depth")),
        badge: el.querySelector('[data-testid="verified-badge"]')?.textContent ?? null,
      })),
    );
    expect(shown.map((a) => a.depth).sort()).toEqual([0, 1, 1, 2, 2, 2, 2]);
    expect(shown.filter((a) => a.role === "ROOT")).toHaveLength(1);
    expect(shown.filter((a) => a.role === "RESEARCHER")).toHaveLength(3);
    expect(shown.filter((a) => a.role === "CRITIC")).toHaveLength(3);
    expect(shown.every((a) => a.state === "COMPLETED")).toBe(true);
    for (const a of shown) {
      const stored = run.agents.find((s) => s.id === a.id);
      expect(stored?.state).toBe("COMPLETED");
      expect(a.badge).toBe(stored?.result?.verified ? "✓ verified" : "unverified");
    }
    // Nested as a tree: each child is drawn inside its parent's branch.
    const rootId = run.agents.find((a) => a.role === "ROOT")?.id;
    const childrenOfRoot = await page
      .locator(`li:has(> [data-agent-id="${rootId}"]) > ul > li > [data-testid="agent"]`)
      .count();
    expect(childrenOfRoot).toBe(2);

    expect(await page.getByTestId("final-answer").textContent()).toBe(run.response);
    expect(await page.getByTestId("merkle-root").textContent()).toBe(run.merkleRoot);
    expect(await page.getByTestId("agent-progress").textContent()).toBe("7/7 answered");
  }, 150_000);

  it("verifies every inclusion proof in the browser", async () => {
    await page.getByTestId("verify-button").click();
    const verification = page.getByTestId("verification");
    await verification.waitFor();
    expect(await verification.getAttribute("data-ok")).toBe("true");
    expect(await page.getByTestId("verify-summary").textContent()).toContain("7/7 inclusion proofs verified");
    const rows = page.getByTestId("proof-row");
    expect(await rows.count()).toBe(7);
    expect(await rows.evaluateAll((els) => els.every((el) => el.getAttribute("data-ok") === "true"))).toBe(
      true,
    );
    const runChecks = page.getByTestId("run-check");
    expect(await runChecks.count()).toBeGreaterThanOrEqual(2);
    expect(
      await runChecks.evaluateAll((els) => els.every((el) => el.getAttribute("data-ok") === "true")),
    ).toBe(true);
    expect(await page.getByTestId("proof-badge").count()).toBe(7);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(ARTIFACTS, "ui-run.png"), fullPage: true });
    if (process.env.UPDATE_UI_SCREENSHOT === "1") copyFileSync(join(ARTIFACTS, "ui-run.png"), README_SHOT);
  }, 60_000);

  it("rejects a tampered run in the browser: the client's verifier, checkpoint signature included", async () => {
    // The RunProvenance answer is altered on its way to the page: one agent's stored answer, and the
    // tree size inside the signed checkpoint note.
    const provenanceAnswers: string[] = [];
    await page.route(`${origin}/graphql`, async (route) => {
      if (!(route.request().postData() ?? "").includes("query RunProvenance")) return route.fallback();
      const response = await route.fetch();
      const json = (await response.json()) as {
        data: {
          orchestration: {
            leafOrder: string[];
            agents: { id: string; result: { response: string } | null }[];
            ledgerProof: { checkpoint: { note: string } };
          };
        };
      };
      const run = json.data.orchestration;
      const agent = run.agents.find((a) => a.id === run.leafOrder[1]);
      if (agent?.result) agent.result.response += " (edited)";
      const cp = run.ledgerProof.checkpoint;
      cp.note = cp.note.replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`);
      provenanceAnswers.push(agent?.id ?? "");
      await route.fulfill({ response, json });
    });
    try {
      await page.getByTestId("verify-button").click();
      const verification = page.getByTestId("verification");
      await expect.poll(() => verification.getAttribute("data-ok")).toBe("false");
      expect(provenanceAnswers).toHaveLength(1);
      expect(await page.getByTestId("verify-summary").textContent()).toContain(
        "6/7 inclusion proofs verified",
      );
      const tampered = page.locator(`[data-testid="proof-row"][data-ok="false"]`);
      expect(await tampered.count()).toBe(1);
      const failedRunChecks = await page
        .locator('[data-testid="run-check"][data-ok="false"]')
        .evaluateAll((els) => els.map((el) => el.textContent ?? ""));
      expect(failedRunChecks.some((t) => t.includes("merkleRoot recomputes"))).toBe(true);
      expect(failedRunChecks.some((t) => /checkpoint \d+ signature/.test(t))).toBe(true);
    } finally {
      await page.unroute(`${origin}/graphql`);
    }
    // Untouched again: the same verifier passes.
    await page.getByTestId("verify-button").click();
    await expect.poll(() => page.getByTestId("verification").getAttribute("data-ok")).toBe("true");
  }, 60_000);

  it("pages through the run history and replays a run from its stored events", async () => {
    // Two more (smaller) runs over the API: three runs to page through and to plot.
    for (const query of ["What makes a debate adversarial?", "How does a genome set sampling parameters?"]) {
      const { startOrchestration } = await request(
        server.url,
        StartOrchestrationDocument,
        { input: { query, maxDepth: 2, maxDebateRounds: 1, evolution: "GENETIC" } },
        bearer(key),
      );
      await expect
        .poll(
          async () =>
            (await request(server.url, OrchestrationDocument, { id: startOrchestration.id }, bearer(key)))
              .orchestration?.status,
          { timeout: 60_000, interval: 200 },
        )
        .toBe("SUCCEEDED");
    }
    const api = await request(server.url, OrchestrationsDocument, { first: 10 }, bearer(key));
    const newestFirst = api.orchestrations.edges.map((e) => e.node.id);
    expect(newestFirst).toHaveLength(3);
    expect(newestFirst[2]).toBe(runId);

    // Two per page: the two newest, then the first run alone; and back.
    await page.goto(`${origin}/ui/runs?first=2`);
    const rows = page.getByTestId("run-row");
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-run-id"))))
      .toEqual(newestFirst.slice(0, 2));
    await page.screenshot({ path: join(ARTIFACTS, "ui-history.png"), fullPage: true });
    await page.getByTestId("older").click();
    await expect
      .poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-run-id"))))
      .toEqual([runId]);
    expect(await page.getByTestId("older").isDisabled()).toBe(true);
    await page.getByTestId("newer").click();
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByTestId("older").click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("SUCCEEDED");

    await row.click();
    await page.waitForURL(new RegExp(`/ui/runs/${runId}$`));
    // Opened after the fact: stored events only, nothing live.
    await page.getByTestId("feed").filter({ hasText: "stored events" }).waitFor();
    await page.getByTestId("run-status").filter({ hasText: "SUCCEEDED" }).waitFor();
    expect(await page.getByTestId("agent").count()).toBe(7);
    const slider = page.getByTestId("replay-slider");
    // The page has every stored event once the slider reaches the last one (it may still be reading).
    const stored = await request(server.url, OrchestrationEventLogDocument, { id: runId }, bearer(key));
    const last = stored.orchestration?.events.at(-1)?.seq ?? 0;
    expect(last).toBeGreaterThan(10);
    await expect.poll(async () => Number(await slider.getAttribute("max"))).toBe(last);
    const total = last;
    // Back to the first event: only the run has started, no agent yet; then step forward to the first agent.
    await slider.fill("1");
    expect(await page.getByTestId("agent").count()).toBe(0);
    expect(await page.getByTestId("final-answer").count()).toBe(0);
    await slider.fill("2");
    expect(await page.getByTestId("replay-label").textContent()).toContain("ROOT");
    expect(await page.getByTestId("agent").count()).toBe(1);
    await slider.fill(String(total));
    await page.getByTestId("final-answer").waitFor();
    expect(await page.getByTestId("agent").count()).toBe(7);
  }, 60_000);

  it("shows the evolution view: gene pool per role, traits and fitness over runs, steps, rules, correlations", async () => {
    await page.getByTestId("nav-evolution").click();
    await page.getByTestId("evolution-page").waitFor();
    const api = await request(server.url, GenePoolDocument, {}, bearer(key));
    const roles = api.genePool.map((e) => e.role).sort();
    expect(roles.length).toBeGreaterThan(0);
    await expect
      .poll(() =>
        page
          .getByTestId("pool-role")
          .evaluateAll((els) => els.map((e) => e.getAttribute("data-role")).sort()),
      )
      .toEqual(roles);
    const plot = page.getByTestId("trait-plot");
    await plot.waitFor();
    expect(await plot.locator("[data-series]").count()).toBe(6); // five traits and fitness
    // One point per run: the RESEARCHER ran in all three runs.
    expect(await plot.locator('[data-series="fitness"] circle').count()).toBe(3);
    // GENETIC mode evolved a genome after the run: at least one step is listed.
    await page.getByTestId("evolution-record").first().waitFor();
    await page.getByTestId("rules-empty").waitFor();
    await page.getByTestId("correlations-empty").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "ui-evolution.png"), fullPage: true });
  }, 60_000);

  it("fetched nothing from anywhere but the server, and threw no page errors", () => {
    expect(offOrigin).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("says so clearly when the server is unreachable", async () => {
    await server.stop();
    await page.getByTestId("nav-history").click();
    const error = page.getByTestId("error");
    await error.waitFor();
    expect(await error.getAttribute("data-code")).toBe("SERVER_UNREACHABLE");
    expect(await error.textContent()).toContain("Server unreachable");
  });
});
