// /docs: the OpenAPI document in Swagger UI, served by the gateway from node_modules. Over plain
// HTTP: the page, its strict CSP, every file it names (cache headers, gzip, 304s), and the bearer
// scheme the "Authorize" button needs. In Debian's headless Chromium: the operations render with
// no failed request and no console error (a CSP violation is one), and "Authorize" with an API key
// makes "Try it out" succeed.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { startStandInGateway, type StandInGateway } from "../../test/helpers/gateway.js";
import { captureLogs, useTestDatabase } from "../../test/helpers/index.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../../test/helpers/chromium.js";

/** Kept for a person to look at (test-artifacts/ is not committed). */
const SCREENSHOT = path.resolve("test-artifacts/docs/docs.png");

describe("/docs (Swagger UI, offline)", function () {
  this.timeout(60_000);
  const db = useTestDatabase();
  const logs = captureLogs("info");
  let gw: StandInGateway;
  before(async () => {
    gw = await startStandInGateway({ dataSource: db.dataSource, logger: logs.logger });
  });
  after(() => gw?.close());

  it("serves the page with a strict CSP and no inline script, revalidated by ETag", async () => {
    const res = await fetch(`${gw.base}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const html = await res.text();
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\//, `only same-origin script files: ${tag}`);
    assert.doesNotMatch(html, /https?:\/\//, "nothing from another origin");
    const etag = res.headers.get("etag")!;
    const again = await fetch(`${gw.base}/docs`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${gw.base}/docs/`, { redirect: "manual" })).headers.get("location"), "/docs");
  });

  it("serves every file the page names: Swagger UI's cached for a year under its version, gzipped when asked", async () => {
    const html = await (await fetch(`${gw.base}/docs`)).text();
    const urls = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]).filter((u) => u.startsWith("/docs"));
    assert.ok(urls.some((u) => u.endsWith("/swagger-ui-bundle.js")) && urls.includes("/docs/init.js"), urls.join(" "));
    for (const url of urls) {
      const res = await fetch(`${gw.base}${url}`);
      assert.equal(res.status, 200, url);
      assert.ok((await res.arrayBuffer()).byteLength > 0, url);
      if (url.startsWith("/docs/swagger-ui/")) assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable", url);
      else assert.equal(res.headers.get("cache-control"), "no-cache", url);
      if (url.endsWith(".js")) {
        assert.match(res.headers.get("content-type") ?? "", /^text\/javascript/, url);
        // fetch asks for gzip and unpacks it
        assert.equal(res.headers.get("content-encoding"), "gzip", url);
      }
    }
    const plain = await fetch(`${gw.base}/docs/init.js`, { headers: { "accept-encoding": "identity" } });
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.match(await plain.text(), /SwaggerUIBundle\(/);
    assert.equal((await fetch(`${gw.base}/docs/swagger-ui/0.0.0/swagger-ui-bundle.js`)).status, 404);
    assert.equal((await fetch(`${gw.base}/docs/init.js`, { method: "POST" })).status, 404);
  });

  it("documents the bearer scheme that Authorize fills in", async () => {
    const doc = (await (await fetch(`${gw.base}/openapi.json`)).json()) as Record<string, any>;
    const schemes = doc.components.securitySchemes as Record<string, { type: string; scheme?: string }>;
    const bearer = Object.entries(schemes).find(([, s]) => s.type === "http" && s.scheme === "bearer");
    assert.ok(bearer, JSON.stringify(schemes));
    assert.deepEqual(doc.security, [{ [bearer[0]]: [] }]);
  });

  describe("in a browser", () => {
    let browser: BrowserContext | undefined;
    let profile = "";
    before(async function () {
      if (!existsSync(CHROMIUM)) {
        console.log(`    ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it): skipping the browser check`);
        return this.skip();
      }
      profile = mkdtempSync(path.join(os.tmpdir(), "rf-chromium-"));
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: ["--headless", ...CHROMIUM_ARGS],
      });
    });
    after(async () => {
      await browser?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it("renders the operations with no failed request or console error, and Authorize makes Try it out work", async () => {
      const page = await browser!.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
      });
      page.on("request", (r) => {
        if (!r.url().startsWith(gw.base) && !r.url().startsWith("data:")) problems.push(`other origin: ${r.url()}`);
      });

      await page.goto(`${gw.base}/docs`);
      await page.waitForSelector(".opblock-summary-path");
      const paths = await page.$$eval(".opblock-summary-path", (els) => els.map((e) => e.getAttribute("data-path")));
      assert.ok(paths.length >= 20, `operations listed: ${paths.length}`);
      assert.ok(paths.includes("/clients") && paths.includes("/api/v1/jobs/{job_id}/events"), paths.join(" "));
      await page.screenshot({ path: SCREENSHOT });
      console.log(`      screenshot of /docs: ${SCREENSHOT}`);

      // Authorize with an API key, then call GET /clients from the page
      await page.click("button.authorize");
      await page.fill(".auth-container input[type=text], .auth-container input[type=password]", gw.keys.readerA);
      await page.click(".auth-btn-wrapper button.authorize");
      await page.click("button.btn-done");
      const op = page.locator("#operations-TokenService-TokenService_ListClients");
      await op.locator(".opblock-summary").click();
      await op.locator("button.try-out__btn").click();
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().startsWith(`${gw.base}/clients`)),
        op.locator("button.execute").click(),
      ]);
      assert.equal(response.status(), 200);
      assert.equal(await response.request().headerValue("authorization"), `Bearer ${gw.keys.readerA}`);
      await op.locator(".responses-wrapper .live-responses-table").waitFor();
      assert.deepEqual(problems, []);
    });
  });
});
