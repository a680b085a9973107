// The consent flow in a real browser: headless Chromium (Debian's) opens the gateway's one-time
// login link, lands on the emulator's consent page (no auto-approve), clicks Allow, and arrives
// at the gateway's "connected" page; the client is then connected.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { ConnectionStatus } from "../gen/reviewflow/token/v1/resources_pb.js";
import { createEnvironment, type Environment } from "../bench/harness/environment.js";
import { TEST_NATS_URL } from "./helpers/index.js";
import { CHROMIUM, CHROMIUM_ARGS } from "./helpers/chromium.js";

/** Where the screenshot of the connected page goes (kept for a person to look at). */
const SCREENSHOT = process.env.BROWSER_SCREENSHOT ?? path.join(os.tmpdir(), "reviewflow-consent-connected.png");

describe("consent flow in a browser", function () {
  this.timeout(120_000);
  let env: Environment | undefined;
  let browser: BrowserContext | undefined;
  let profile = "";

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it): skipping the browser check`);
      return this.skip();
    }
    env = await createEnvironment({
      label: "browser",
      natsUrl: TEST_NATS_URL,
      emulator: { seed: "tiny" },
      autoApprove: false,
      connect: false,
      stack: { fetchers: 1, gateway: true },
    });
    profile = mkdtempSync(path.join(os.tmpdir(), "rf-chromium-"));
    // a fresh profile per run; playwright takes it as the persistent context's directory
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ["--headless", ...CHROMIUM_ARGS],
    });
  });

  after(async () => {
    await browser?.close();
    await env?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("goes from the gateway's login link through Google's consent page to the connected page", async () => {
    const e = env!;
    const start = await fetch(`${e.stack.gatewayUrl}/oauth/start/${e.clientId}`, {
      headers: { authorization: `Bearer ${e.stack.adminKey}` },
    });
    assert.equal(start.status, 200);
    const { login_url: loginUrl } = (await start.json()) as { login_url: string };
    assert.ok(loginUrl.startsWith(`${e.stack.gatewayUrl}/oauth/login/${e.clientId}?link=`), loginUrl);

    const page = await browser!.newPage();
    await page.goto(loginUrl);
    // the gateway redirected to Google (the emulator): its consent screen, with an Allow button
    assert.ok(page.url().startsWith(`${e.emulator.url}/o/oauth2/v2/auth`), page.url());
    assert.match((await page.textContent("h1")) ?? "", /wants access to your Google Account/);
    await Promise.all([page.waitForURL(`${e.stack.gatewayUrl}/auth/callback?**`), page.click("#allow")]);
    const body = (await page.textContent("body")) ?? "";
    assert.match(body, /is now connected to Google/);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`      screenshot of the connected page: ${SCREENSHOT}`);

    const status = await e.stack.token.getConnectionStatus({ clientId: e.clientId });
    assert.equal(status.status, ConnectionStatus.CONNECTED);
    // the link was single-use: opening it again is refused, and nothing changes
    const again = await page.goto(loginUrl);
    assert.notEqual(again?.status(), 302);
    assert.ok((again?.status() ?? 0) >= 400, `a second use answered ${again?.status()}`);
  });
});
