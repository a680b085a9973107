import assert from "node:assert/strict";
import { DEMO_GOOGLE_CLIENT, useGatewayStack } from "./helpers/gateway-stack.js";
import { FORGED_PAGE_TOKENS, JUNK_ACCESS_TOKENS, NUL, TEST_ADMIN_KEY } from "./helpers/index.js";

type Json = Record<string, any>;

/**
 * Hostile input and tenancy over the REST surface (the gateway in front of the real services):
 * what Postgres cannot hold is 400, never 500 or 503; ids one tenant chose tell another nothing;
 * a list filtered by someone else's id is 404, like the direct route.
 */
describe("gateway REST: hostile input and tenancy", function () {
  this.timeout(30_000);
  const stack = useGatewayStack();
  const ctx = {} as {
    operatorA: string;
    readerA: string;
    operatorB: string;
    readerB: string;
    clientA: string;
    clientB: string;
    branchA: string;
    jobA: string;
  };

  const rest = async (method: string, path: string, key: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${stack.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const ok = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await rest(method, path, key, body);
    assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const expect = async (status: number, method: string, path: string, key: string, body?: unknown) => {
    const res = await rest(method, path, key, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body) ?? ""}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  before(async () => {
    const tenant = async (name: string) => (await ok("POST", "/tenants", TEST_ADMIN_KEY, { name })).tenant.id as string;
    const key = async (tenantId: string, role: string) =>
      (await ok("POST", "/api-keys", TEST_ADMIN_KEY, { tenant_id: tenantId, role, name: role })).key as string;
    const a = await tenant("rest-a");
    const b = await tenant("rest-b");
    [ctx.operatorA, ctx.readerA, ctx.operatorB, ctx.readerB] = [
      await key(a, "ROLE_OPERATOR"),
      await key(a, "ROLE_READER"),
      await key(b, "ROLE_OPERATOR"),
      await key(b, "ROLE_READER"),
    ];
    const client = {
      name: "Main",
      google_client_id: DEMO_GOOGLE_CLIENT.id,
      client_secret: DEMO_GOOGLE_CLIENT.secret,
      redirect_uri: `${stack.base}/auth/callback`,
    };
    ctx.clientA = (await ok("POST", "/clients", ctx.operatorA, client)).client.id;
    ctx.clientB = (await ok("POST", "/clients", ctx.operatorB, client)).client.id;
    ctx.branchA = (await ok("POST", "/branches", ctx.operatorA, branch(ctx.clientA))).branch.id;
    const token = stack.emulator.controls.issueTokens({ client_id: DEMO_GOOGLE_CLIENT.id }).access_token;
    ctx.jobA = (await ok("POST", "/api/v1/review-fetch", ctx.operatorA, { access_token: token })).job_id;
  });

  const branch = (clientId: string, extra: Json = {}) => ({
    client_id: clientId,
    branch_id: "sec-A-1",
    name: "Downtown",
    account_id: "1",
    location_id: "2",
    manager_email: "m@example.com",
    ...extra,
  });

  it("lets tenant B register a branch id tenant A has, tells B nothing, and answers by-branch-id within each tenant", async () => {
    const ofB = (await expect(200, "POST", "/branches", ctx.operatorB, branch(ctx.clientB))).branch;
    assert.equal((await ok("GET", "/branches/by-branch-id/sec-A-1", ctx.readerA)).branch.id, ctx.branchA);
    assert.equal((await ok("GET", "/branches/by-branch-id/sec-A-1", ctx.readerB)).branch.id, ofB.id);
    const again = await expect(409, "POST", "/branches", ctx.operatorB, branch(ctx.clientB));
    assert.match(again.message, /already exists in this tenant/);
    assert.ok(!JSON.stringify(again).includes(ctx.branchA));
    await expect(404, "GET", "/branches/by-branch-id/only-in-A", ctx.readerB);
  });

  it("answers 400, never 500 or 503, to a NUL in any field of any route", async () => {
    const client = { name: "c", google_client_id: "g", client_secret: "s", redirect_uri: `${stack.base}/auth/callback` };
    const cases: [string, string, string, unknown][] = [
      ["POST", "/tenants", TEST_ADMIN_KEY, { name: `t${NUL}` }],
      ["POST", "/clients", ctx.operatorA, { ...client, name: `c${NUL}` }],
      ["POST", "/clients", ctx.operatorA, { ...client, client_secret: `s${NUL}` }],
      ["PATCH", `/clients/${ctx.clientA}`, ctx.operatorA, { name: `c${NUL}` }],
      ["POST", "/branches", ctx.operatorA, branch(ctx.clientA, { branch_id: "other", name: `b${NUL}` })],
      ["PATCH", `/branches/${ctx.branchA}`, ctx.operatorA, { name: `b${NUL}` }],
      ["POST", "/api-keys", TEST_ADMIN_KEY, { role: "ROLE_ADMIN", name: `k${NUL}` }],
      ["GET", "/branches/by-branch-id/sec%00A", ctx.readerA, undefined],
      ["GET", "/api/v1/reviews?location_id=loc%00", ctx.readerA, undefined],
      ["POST", "/api/v1/review-fetch", ctx.operatorA, { client_id: ctx.clientA, request_id: `r${NUL}` }],
      ["POST", "/api/v1/review-fetch", ctx.operatorA, { branch_id: `sec-A-1${NUL}` }],
    ];
    for (const [method, path, key, body] of cases) {
      const answer = await expect(400, method, path, key, body);
      assert.equal(answer.code, "invalid_argument");
    }
  });

  it("answers 400 to a raw access token no bearer header can carry", async () => {
    for (const junk of JUNK_ACCESS_TOKENS) {
      const answer = await expect(400, "POST", "/api/v1/review-fetch", ctx.operatorA, { access_token: junk });
      assert.match(answer.message, /access_token/);
    }
  });

  it("answers 400 to a forged page token on every paged list", async () => {
    const lists: [string, string][] = [
      ["/clients", ctx.readerA],
      ["/branches", ctx.readerA],
      ["/tenants", TEST_ADMIN_KEY],
      ["/api-keys", TEST_ADMIN_KEY],
      ["/api/v1/jobs", ctx.readerA],
      ["/api/v1/reviews", ctx.readerA],
      ["/api/v1/dead-letters", ctx.readerA],
    ];
    for (const [path, key] of lists) {
      for (const forged of Object.values(FORGED_PAGE_TOKENS))
        await expect(400, "GET", `${path}?page_token=${encodeURIComponent(forged)}`, key);
    }
  });

  it("answers 404 to a list filtered by another tenant's client or job, as the direct routes do", async () => {
    await expect(404, "GET", `/clients/${ctx.clientA}`, ctx.readerB);
    await expect(404, "GET", `/api/v1/jobs/${ctx.jobA}`, ctx.readerB);
    await expect(404, "GET", `/branches?client_id=${ctx.clientA}`, ctx.readerB);
    await expect(404, "GET", `/api/v1/reviews?client_id=${ctx.clientA}`, ctx.readerB);
    await expect(404, "GET", `/api/v1/jobs?client_id=${ctx.clientA}`, ctx.readerB);
    await expect(404, "GET", `/api/v1/dead-letters?job_id=${ctx.jobA}`, ctx.readerB);
    // the owner still lists them
    await expect(200, "GET", `/api/v1/reviews?client_id=${ctx.clientA}`, ctx.readerA);
    await expect(200, "GET", `/api/v1/jobs?client_id=${ctx.clientA}`, ctx.readerA);
    await expect(200, "GET", `/api/v1/dead-letters?job_id=${ctx.jobA}`, ctx.readerA);
  });
});
