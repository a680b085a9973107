// The pages a business owner sees around consent, against the real TokenService and the Google
// emulator: one test per state (connected, expired / used / unknown link, consent declined at
// Google, Google's other refusals, an unknown / used / expired state, requests cut short). Each
// page says what happened and what to do in plain words; developer words (RPC names, validation
// rules, error codes outside the small print), stack traces and secrets never appear; JSON
// answers for API users are as before.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { consentInBrowser, DEMO_GOOGLE_CLIENT, useGatewayStack } from "./helpers/gateway-stack.js";
import { TEST_ADMIN_KEY } from "./helpers/index.js";
import { CHROMIUM, CHROMIUM_ARGS } from "./helpers/chromium.js";

type Json = Record<string, any>;

/** Screenshots of every page state, for a person to look at (test-artifacts/ is not committed). */
const ARTIFACTS = path.resolve("test-artifacts/consent");

describe("consent pages in plain language (real services)", function () {
  this.timeout(30_000);
  const stack = useGatewayStack();
  let clientId = "";
  /** Each page seen, by its title, to screenshot after the tests. */
  const seen = new Map<string, string>();

  const api = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${stack.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as Json;
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const startConsent = () =>
    api("GET", `/oauth/start/${clientId}`) as Promise<{ login_url: string; state: string; authorization_url: string }>;

  /** A page as a browser gets it, with the checks every consent page must pass. */
  const page = async (url: string, status: number) => {
    const res = await fetch(url.startsWith("http") ? url : `${stack.base}${url}`, { redirect: "manual", headers: { accept: "text/html" } });
    const html = await res.text();
    assert.equal(res.status, status, html);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const title = /<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? "";
    seen.set(title, html);
    const small = /<p class="small">([^<]*)<\/p>/.exec(html)?.[1] ?? "";
    const main = html.replace(/<p class="small">[^<]*<\/p>/, "");
    for (const word of [
      /StartOAuth|OpenLoginLink|CompleteOAuth/,
      /\[string\.|min_len|uuid/,
      /invalid_argument|failed_precondition|not_found|unavailable/,
      /\bat .*\.ts:\d+|Error:/,
      /ya29\.|client_secret|demo-secret/,
    ]) {
      assert.doesNotMatch(main, word, `developer words or secrets on the page: ${main}`);
    }
    assert.match(small, /Reference: [\w-]+/);
    return { title, small, text: main.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ") };
  };

  before(async () => {
    const tenant = await api("POST", "/tenants", { name: "pages" });
    const created = await api("POST", "/clients", {
      tenant_id: tenant.tenant.id,
      name: "Rosa's Bakery",
      google_client_id: DEMO_GOOGLE_CLIENT.id,
      client_secret: DEMO_GOOGLE_CLIENT.secret,
      redirect_uri: `${stack.base}/auth/callback`,
    });
    clientId = created.client.id;
  });

  after(async function () {
    if (!existsSync(CHROMIUM) || seen.size === 0) return;
    this.timeout(60_000);
    mkdirSync(ARTIFACTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
    try {
      const tab = await browser.newPage({ viewport: { width: 480, height: 640 } });
      for (const [title, html] of seen) {
        await tab.setContent(html);
        await tab.screenshot({
          path: path.join(
            ARTIFACTS,
            `${title
              .replace(/&#39;/g, "")
              .replace(/[^A-Za-z0-9]+/g, "-")
              .toLowerCase()}.png`,
          ),
          fullPage: true,
        });
      }
    } finally {
      await browser.close();
    }
  });

  it("connected: names the business (escaped) and says there is nothing more to do", async () => {
    const started = await startConsent();
    const back = await consentInBrowser(started.login_url, "allow");
    const { title, text, small } = await page(back, 200);
    assert.equal(title, "You&#39;re connected");
    assert.match(text, /Rosa&#39;s Bakery is now connected to Google/);
    assert.match(text, /you can close this window/);
    assert.match(small, new RegExp(`Client id: ${clientId}`));

    // used state: the same callback again (a reload)
    const reloaded = await page(back, 400);
    assert.equal(reloaded.title, "This sign-in was already completed");
    assert.match(reloaded.small, /Error code: invalid_argument \(state_used\)/);
    // used link: the same login link again
    const used = await page(started.login_url, 400);
    assert.equal(used.title, "This link has already been used");
    assert.match(used.text, /Each link works only once/);
    assert.match(used.small, /\(link_used\)/);
  });

  it("expired link: says so and to ask for a new one; JSON callers get the API's message as before", async () => {
    const started = await startConsent();
    await stack.dataSource.query(
      `UPDATE oauth_login_links SET expires_at = now() - interval '1 minute' WHERE client_id = $1 AND used_at IS NULL`,
      [clientId],
    );
    const { title, text, small } = await page(started.login_url, 400);
    assert.equal(title, "This link has expired");
    assert.match(text, /Ask the person who sent you the link for a new one\./);
    assert.match(small, /Error code: invalid_argument \(link_expired\)/);
    const asJson = await fetch(started.login_url, { headers: { accept: "application/json" } });
    assert.equal(asJson.status, 400);
    const body = (await asJson.json()) as Json;
    assert.deepEqual(Object.keys(body).sort(), ["code", "message"]);
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /^login link expired at .*: start the consent flow again \(StartOAuth\)$/);
  });

  it("unknown link, or one cut short: says the link isn't valid or is incomplete, without the validation rule", async () => {
    const unknown = await page(`/oauth/login/${clientId}?link=${"A".repeat(43)}`, 400);
    assert.equal(unknown.title, "This link isn&#39;t valid");
    assert.match(unknown.small, /\(link_unknown\)/);
    // too short for the contract ([string.min_len] for API users)
    const short = await page(`/oauth/login/${clientId}?link=abc`, 400);
    assert.equal(short.title, "This link is incomplete");
    assert.match(short.text, /making sure you use all of it/);
    assert.equal(short.small.startsWith("Error code: invalid_argument ·"), true, short.small);
    const asJson = (await (
      await fetch(`${stack.base}/oauth/login/${clientId}?link=abc`, { headers: { accept: "application/json" } })
    ).json()) as Json;
    assert.match(asJson.message, /string\.min_len/);
    assert.equal((await page(`/oauth/login/${clientId}`, 400)).title, "This link is incomplete");
    assert.equal((await page(`/oauth/login/not-a-client?link=${"A".repeat(43)}`, 400)).title, "This link is incomplete");
  });

  it("consent declined at Google: nothing was connected, and how to try again", async () => {
    const started = await startConsent();
    const back = await consentInBrowser(started.login_url, "deny");
    const { title, text, small } = await page(back, 400);
    assert.equal(title, "Nothing was connected");
    assert.match(text, /You chose not to give access at Google/);
    assert.match(text, /If that was a mistake, ask the person who sent you the link for a new one/);
    assert.match(small, /Google said: access_denied/);
  });

  it("another refusal by Google: escaped, in small print", async () => {
    const { title, small } = await page(`/auth/callback?error=${encodeURIComponent("<script>alert(1)</script>")}&state=s`, 400);
    assert.equal(title, "Google couldn&#39;t complete the sign-in");
    assert.match(small, /Google said: &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it("unknown or expired state, and a code Google rejects: nothing was connected, ask for a new link", async () => {
    const unknown = await page(`/auth/callback?code=4%2F0-code&state=${"s".repeat(43)}`, 400);
    assert.equal(unknown.title, "We couldn&#39;t finish connecting");
    assert.match(unknown.small, /\(state_unknown\)/);

    const expiring = await startConsent();
    await stack.dataSource.query(
      `UPDATE oauth_states SET expires_at = now() - interval '1 minute' WHERE client_id = $1 AND used_at IS NULL`,
      [clientId],
    );
    const expired = await page(`/auth/callback?code=4%2F0-code&state=${encodeURIComponent(expiring.state)}`, 400);
    assert.equal(expired.title, "This sign-in took too long");
    assert.match(expired.text, /Nothing was connected/);

    const fresh = await startConsent();
    const rejected = await page(`/auth/callback?code=not-a-code-google-issued&state=${encodeURIComponent(fresh.state)}`, 400);
    assert.equal(rejected.title, "Google didn&#39;t accept this sign-in");
    assert.match(rejected.small, /\(code_rejected\)/);
  });

  it("a callback without Google's details: says the page can't be used on its own", async () => {
    for (const url of ["/auth/callback", "/auth/callback?code=x", "/auth/callback?state=y"]) {
      const { title, small } = await page(url, 400);
      assert.equal(title, "This page can&#39;t be used on its own", url);
      assert.match(small, /Error code: invalid_argument/);
    }
  });
});
