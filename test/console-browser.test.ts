// The operator console in a real browser (Debian's headless Chromium through playwright-core),
// against the whole stack (helpers/gateway-stack: emulator, Postgres, NATS, both services, the gateway):
// sign-in, consent through the console's login link, a job's live bar, a dead letter replayed
// after a fault is lifted, roles (a reader sees no pause or replay buttons, the server refuses
// anyway), CSRF, hostile review text shown as text, tenant isolation, sign-out. Screenshots of
// every page go to test-artifacts/console/ for a person to look at.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { DEMO_GOOGLE_CLIENT, useGatewayStack } from "./helpers/gateway-stack.js";
import { TEST_ADMIN_KEY } from "./helpers/index.js";
import { CHROMIUM, CHROMIUM_ARGS } from "./helpers/chromium.js";

const ARTIFACTS = path.resolve("test-artifacts/console");
const HOSTILE = "<img src=x onerror=alert(1)>";
type Json = Record<string, any>;

describe("operator console in a browser", function () {
  this.timeout(60_000);
  const stack = useGatewayStack();
  let browser: Browser | undefined;
  const ctx = {} as {
    operatorA: string;
    readerA: string;
    operatorB: string;
    clientA: string;
    clientB: string;
    operator: { context: BrowserContext; page: Page };
    deadLetterId: string;
    partialJobId: string;
  };
  const dialogs: string[] = [];

  const api = async (method: string, route: string, key: string, body?: unknown) => {
    const res = await fetch(`${stack.base}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Json;
    assert.ok(res.ok, `${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** A fresh browser context (its own cookies) signed in with `key` on the console. */
  const signIn = async (key: string, viewport = { width: 1200, height: 900 }) => {
    const context = await browser!.newContext({ viewport });
    const page = await context.newPage();
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${stack.base}/`);
    assert.equal(new URL(page.url()).pathname, "/console");
    await page.fill("#api-key", key);
    await page.click("button[type=submit]");
    await page.waitForSelector("nav[aria-label='Console pages']");
    return { context, page };
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const go = async (page: Page, route: string) => {
    const url = `${stack.base}/console#/${route}`;
    // the same URL again is no navigation at all: reload, so the page reads fresh data
    if (page.url() === url) await page.reload();
    else await page.goto(url);
    await page.waitForSelector("#page-title");
  };
  const cookieHeader = async (context: BrowserContext) => (await context.cookies(stack.base)).map((c) => `${c.name}=${c.value}`).join("; ");

  before(async function () {
    mkdirSync(ARTIFACTS, { recursive: true });
    if (existsSync(CHROMIUM))
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
      });
    const tenantA = (await api("POST", "/tenants", TEST_ADMIN_KEY, { name: "console-a" })).tenant.id;
    const tenantB = (await api("POST", "/tenants", TEST_ADMIN_KEY, { name: "console-b" })).tenant.id;
    const key = async (tenant: string, role: string) =>
      (await api("POST", "/api-keys", TEST_ADMIN_KEY, { tenant_id: tenant, role, name: role })).key as string;
    ctx.operatorA = await key(tenantA, "ROLE_OPERATOR");
    ctx.readerA = await key(tenantA, "ROLE_READER");
    ctx.operatorB = await key(tenantB, "ROLE_OPERATOR");
    const client = async (operator: string, name: string) =>
      (
        await api("POST", "/clients", operator, {
          name,
          google_client_id: DEMO_GOOGLE_CLIENT.id,
          client_secret: DEMO_GOOGLE_CLIENT.secret,
          redirect_uri: `${stack.base}/auth/callback`,
        })
      ).client.id as string;
    ctx.clientA = await client(ctx.operatorA, "Demo bakery");
    ctx.clientB = await client(ctx.operatorB, "Tenant B's shop");
  });

  beforeEach(function () {
    // the plain-HTTP checks run everywhere; the rest need the browser
    if (!browser && !this.currentTest?.title.startsWith("over plain HTTP")) {
      console.log(`    ${CHROMIUM} is missing (apt-get install chromium; .ci/run does it): skipping`);
      this.skip();
    }
  });

  it("over plain HTTP: signs in only with a JSON key from this site, and the session cookie needs the CSRF token to change anything", async () => {
    const signIn = (body: string, headers: Record<string, string>) =>
      fetch(`${stack.base}/console/session`, { method: "POST", headers, body });
    assert.equal((await signIn(`api_key=${ctx.operatorA}`, { "content-type": "application/x-www-form-urlencoded" })).status, 415);
    assert.equal((await signIn(JSON.stringify({ api_key: ctx.operatorA }), { "content-type": "text/plain" })).status, 415);
    assert.equal(
      (await signIn(JSON.stringify({ api_key: ctx.operatorA }), { "content-type": "application/json", "sec-fetch-site": "cross-site" }))
        .status,
      403,
    );
    assert.equal((await signIn(JSON.stringify({ api_key: "rfk_wrong" }), { "content-type": "application/json" })).status, 401);
    const res = await signIn(JSON.stringify({ api_key: ctx.operatorA }), { "content-type": "application/json" });
    assert.equal(res.status, 200);
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^rf_session=rfs_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict$/);
    const session = (await res.json()) as Json;
    assert.equal(session.role, "operator");
    assert.ok(!JSON.stringify(session).includes("rfs_"), "the session token is only in the cookie");
    const cookie = setCookie.split(";")[0];
    const call = (method: string, route: string, headers: Record<string, string> = {}, body?: unknown) =>
      fetch(`${stack.base}${route}`, {
        method,
        headers: { cookie, ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const csrf = { "x-csrf-token": session.csrf_token as string };
    assert.equal((await call("GET", "/clients")).status, 200, "reads need no token");
    assert.equal((await call("PATCH", `/clients/${ctx.clientA}`, {}, { name: "Forged" })).status, 403);
    assert.equal((await call("PATCH", `/clients/${ctx.clientA}`, { "x-csrf-token": "wrong" }, { name: "Forged" })).status, 403);
    assert.equal((await call("PATCH", `/clients/${ctx.clientA}`, csrf, { name: "Demo bakery" })).status, 200);
    // a login link is minted by a GET: it needs the token too
    assert.equal((await call("GET", `/oauth/start/${ctx.clientA}`)).status, 403);
    assert.equal((await call("GET", `/oauth/start/${ctx.clientA}`, csrf)).status, 200);
    // the cookie is for the REST routes only: Connect calls still need an Authorization header
    assert.equal((await call("POST", "/reviewflow.token.v1.TokenService/ListClients", csrf, {})).status, 401);
    assert.equal((await call("DELETE", "/console/session")).status, 403, "sign-out needs the token too");
    const out = await call("DELETE", "/console/session", csrf);
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie") ?? "", /^rf_session=; Path=\/; Max-Age=0;/);
    assert.equal((await call("GET", "/clients")).status, 401);
  });

  after(async () => {
    await browser?.close();
  });

  it("serves the console under a strict CSP, redirects / to it, and signs in with an HttpOnly SameSite=Strict cookie", async () => {
    const res = await fetch(`${stack.base}/console`);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), csp);
    assert.ok(!/<script>/.test(await res.text()), "no inline script");
    const script = await fetch(`${stack.base}/console/app.js`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    assert.ok((await script.text()).length > 1000, "the bundle was built and decodes");
    const redirect = await fetch(`${stack.base}/`, { redirect: "manual" });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/console");
    // a wrong key is refused on the page
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.base}/console`);
    await shot(page, "sign-in");
    await page.fill("#api-key", "rfk_not_a_key");
    await page.click("button[type=submit]");
    assert.match((await page.textContent("[role=alert]")) ?? "", /invalid or revoked API key/);
    await context.close();

    ctx.operator = await signIn(ctx.operatorA);
    const [cookie] = await ctx.operator.context.cookies(stack.base);
    assert.equal(cookie.name, "rf_session");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    // PUBLIC_URL is http here: no Secure flag, or the browser would drop the cookie
    assert.equal(cookie.secure, false);
    const rows = (await stack.dataSource.query("SELECT id_hash, api_key_id FROM console_sessions")) as {
      id_hash: string;
      api_key_id: string;
    }[];
    assert.ok(rows.length >= 1 && rows.every((r) => !cookie.value.includes(r.id_hash)), "only a hash of the session id is stored");
  });

  it("connects the demo client through the console's one-time login link and shows it connected", async () => {
    const { page, context } = ctx.operator;
    await go(page, "connections");
    const card = page.locator(`[data-client-id="${ctx.clientA}"]`);
    await card.locator("[data-testid=connection-status]", { hasText: "not connected" }).waitFor();
    await card.getByRole("button", { name: "Make a login link for the business" }).click();
    const link = await card.locator("input.link").inputValue();
    assert.ok(link.startsWith(`${stack.base}/oauth/login/${ctx.clientA}?link=`), link);
    // the business opens the link (no key, no session: a fresh context), consents at Google
    const business = await browser!.newContext();
    const consent = await business.newPage();
    await consent.goto(link);
    await Promise.all([consent.waitForURL(`${stack.base}/auth/callback?**`), consent.click("#allow")]);
    await business.close();
    await page.reload();
    await page.locator(`[data-client-id="${ctx.clientA}"] [data-testid=connection-status]`, { hasText: /^connected$/ }).waitFor();
    await shot(page, "connections");
    assert.ok(context);
  });

  it("starts a job and watches its progress bar reach 100 %, then shows the locations' freshness", async () => {
    const { page } = ctx.operator;
    await go(page, "jobs");
    await page.selectOption("#job-client", ctx.clientA);
    await page.getByRole("button", { name: "Start job" }).click();
    const card = page.locator("li[data-job-id]").first();
    await card.waitFor();
    await page.locator("li[data-job-id][data-status=succeeded]").first().waitFor();
    assert.equal(await card.locator("progress").getAttribute("data-percent"), "100");
    assert.equal(await card.locator("[data-testid=job-percent]").textContent(), "100 %");
    await shot(page, "jobs");
    await go(page, "locations");
    const titles = stack.emulator.controls.data().accounts.flatMap((a) => a.locations.map((l) => l.title));
    await page
      .locator("tbody tr")
      .nth(titles.length - 1)
      .waitFor();
    const text = (await page.textContent("tbody")) ?? "";
    for (const title of titles) assert.ok(text.includes(title), `location ${title} listed`);
    await shot(page, "locations");
  });

  it("shows a dead letter for a location Google refuses; a reader sees no replay or pause buttons and forged POSTs are refused", async () => {
    const { page, context } = ctx.operator;
    const location = stack.emulator.controls.data().accounts[0].locations[0];
    const fault = stack.emulator.controls.addFault({ kind: "forbidden", locations: [`locations/${location.name.split("/").at(-1)!}`] });
    try {
      await go(page, "jobs");
      await page.selectOption("#job-mode", "FETCH_MODE_FULL");
      await page.getByRole("button", { name: "Start job" }).click();
      await page.locator("li[data-job-id][data-status=partial]").first().waitFor();
      ctx.partialJobId = (await page.locator("li[data-job-id][data-status=partial]").first().getAttribute("data-job-id"))!;
      await go(page, "dead-letters");
      const letter = page.locator("li[data-dead-letter-id]").first();
      await letter.waitFor();
      assert.match((await letter.textContent()) ?? "", /PERMISSION_DENIED/);
      ctx.deadLetterId = (await letter.getAttribute("data-dead-letter-id"))!;
      assert.equal(await letter.getByRole("button", { name: "Replay" }).count(), 1);
      await shot(page, "dead-letters");

      // a forged POST: the operator's own cookie, but no CSRF token (what a cross-site form could send)
      const noToken = await page.evaluate(
        async (id) => (await fetch(`/api/v1/dead-letters/${id}/replay`, { method: "POST", credentials: "same-origin" })).status,
        ctx.deadLetterId,
      );
      assert.equal(noToken, 403);
      const session = (await (
        await fetch(`${stack.base}/console/session`, { headers: { cookie: await cookieHeader(context) } })
      ).json()) as Json;
      const crossSite = await fetch(`${stack.base}/api/v1/dead-letters/${ctx.deadLetterId}/replay`, {
        method: "POST",
        headers: { cookie: await cookieHeader(context), "x-csrf-token": session.csrf_token, "sec-fetch-site": "cross-site" },
      });
      assert.equal(crossSite.status, 403);
      // from another site, the browser does not even send the SameSite=Strict cookie
      const emulatorPort = new URL(stack.emulator.url).port;
      const other = await context.newPage();
      await other.goto(`http://localhost:${emulatorPort}/_emulator/stats`);
      await other.evaluate(async (url) => {
        await fetch(url, { method: "POST", mode: "no-cors", credentials: "include" }).catch(() => undefined);
      }, `${stack.base}/api/v1/dead-letters/${ctx.deadLetterId}/replay`);
      await other.close();
      const stillDead = await api("GET", `/api/v1/dead-letters?job_id=${ctx.partialJobId}`, ctx.operatorA);
      assert.equal(stillDead.dead_letters[0].replay_time, undefined, "no forged request replayed it");

      const reader = await signIn(ctx.readerA);
      await go(reader.page, "dead-letters");
      await reader.page.locator(`li[data-dead-letter-id="${ctx.deadLetterId}"]`).waitFor();
      assert.equal(await reader.page.getByRole("button", { name: "Replay" }).count(), 0);
      await go(reader.page, "stages");
      await reader.page.locator("tr[data-stage]").first().waitFor();
      assert.equal(await reader.page.getByRole("button", { name: /Pause|Resume/ }).count(), 0);
      await go(reader.page, "jobs");
      assert.equal(await reader.page.getByRole("button", { name: "Start job" }).count(), 0);
      await shot(reader.page, "reader-jobs");
      // the server refuses the reader anyway, CSRF token and all
      const readerSession = (await reader.page.evaluate(async () => (await fetch("/console/session")).json())) as Json;
      const refused = await reader.page.evaluate(
        async ({ id, token }) => {
          const res = await fetch(`/api/v1/dead-letters/${id}/replay`, { method: "POST", headers: { "x-csrf-token": token } });
          return { status: res.status, body: (await res.json()) as { code: string } };
        },
        { id: ctx.deadLetterId, token: readerSession.csrf_token as string },
      );
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, "permission_denied");
      const pause = await reader.page.evaluate(
        async (token) => (await fetch("/api/v1/stages/reviews/pause", { method: "POST", headers: { "x-csrf-token": token } })).status,
        readerSession.csrf_token as string,
      );
      assert.equal(pause, 403);
      await reader.context.close();
    } finally {
      stack.emulator.controls.removeFault(fault.id);
    }
  });

  it("replays the dead letter once the fault is lifted, and the job succeeds", async () => {
    const { page } = ctx.operator;
    await go(page, "dead-letters");
    const letter = page.locator(`li[data-dead-letter-id="${ctx.deadLetterId}"]`);
    await letter.getByRole("button", { name: "Replay" }).click();
    await letter.getByText(/^replayed/).waitFor();
    await go(page, "jobs");
    await page.locator(`li[data-job-id="${ctx.partialJobId}"][data-status=succeeded]`).waitFor();
    assert.equal(await page.locator(`li[data-job-id="${ctx.partialJobId}"] progress`).getAttribute("data-percent"), "100");
  });

  it("shows review text from Google as text, never as HTML, with the review's versions", async () => {
    const { page } = ctx.operator;
    const [target] = (await api("GET", `/api/v1/reviews?client_id=${ctx.clientA}&page_size=1`, ctx.operatorA)).reviews as Json[];
    const name = target.review.name as string;
    // the emulator's review edit control: Google now holds the hostile text
    const edit = await fetch(`${stack.emulator.url}/_emulator/reviews/edit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, comment: HOSTILE }),
    });
    assert.equal(edit.status, 200);
    const job = await api("POST", "/api/v1/review-fetch", ctx.operatorA, { client_id: ctx.clientA, mode: "FETCH_MODE_FULL" });
    await go(page, "jobs");
    await page.locator(`li[data-job-id="${job.job_id}"][data-status=succeeded]`).waitFor();
    await go(page, "reviews");
    await page.fill("#reviews-text", "onerror");
    const card = page.locator(`li[data-review-name="${name}"]`);
    await card.waitFor();
    assert.equal(await card.locator("p.comment").textContent(), HOSTILE);
    assert.equal(await card.locator("img").count(), 0, "no element was made from the text");
    assert.equal(await page.locator("li.review").count(), 1, "the text filter narrowed the list");
    await card.getByRole("button", { name: "Versions" }).click();
    await card.locator(".versions li").nth(1).waitFor();
    assert.match((await card.locator(".versions").textContent()) ?? "", /v2 updated/);
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(dialogs, [], "no script ran");
    await shot(page, "reviews");
  });

  it("lets an admin pause and resume a stage", async () => {
    const admin = await signIn(TEST_ADMIN_KEY);
    await go(admin.page, "stages");
    await admin.page.getByRole("button", { name: "Pause reviews" }).click();
    await admin.page.getByRole("button", { name: "Resume reviews" }).waitFor();
    await shot(admin.page, "stages");
    await admin.page.getByRole("button", { name: "Resume reviews" }).click();
    await admin.page.getByRole("button", { name: "Pause reviews" }).waitFor();
    await admin.context.close();
  });

  it("shows a tenant only its own clients, on a phone-sized screen too", async () => {
    const b = await signIn(ctx.operatorB, { width: 390, height: 844 });
    await go(b.page, "connections");
    await b.page.locator(`[data-client-id="${ctx.clientB}"]`).waitFor();
    assert.equal(await b.page.locator(`[data-client-id="${ctx.clientA}"]`).count(), 0);
    assert.equal(await b.page.locator("[data-client-id]").count(), 1);
    assert.ok(!((await b.page.textContent("body")) ?? "").includes("Demo bakery"));
    await shot(b.page, "connections-tenant-b-phone");
    await b.context.close();
  });

  it("signs out: the session ends and the old cookie gets 401", async () => {
    const { page, context } = ctx.operator;
    const cookie = await cookieHeader(context);
    assert.equal((await fetch(`${stack.base}/clients`, { headers: { cookie } })).status, 200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForSelector("#api-key");
    assert.equal((await fetch(`${stack.base}/clients`, { headers: { cookie } })).status, 401);
    assert.equal((await fetch(`${stack.base}/console/session`, { headers: { cookie } })).status, 401);
    assert.deepEqual(await context.cookies(stack.base), [], "the browser dropped the cookie");
    assert.ok(!stack.logs.text().includes(cookie.split("=")[1]), "no session token in the logs");
    await context.close();
  });
});
