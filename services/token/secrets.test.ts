import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { as, consentAt, createOAuthClient, createTenant, GOOGLE_CLIENTS, useTokenEnv } from "../../test/helpers/token-service.js";
import { TEST_ADMIN_KEY } from "../../test/helpers/index.js";

describe("TokenService secrecy", () => {
  const env = useTokenEnv({ instances: 2 });
  const secrets = new Set<string>();
  let spentState = "";

  before(async function () {
    this.timeout(30_000);
    // a full life: keys, a client, consent, validation, refreshes, a failed and a pending consent
    const api = env.api[0];
    const tenant = await createTenant(api, "secrecy");
    [TEST_ADMIN_KEY, tenant.operator, tenant.reader, tenant.service].forEach((k) => secrets.add(k));
    const google = GOOGLE_CLIENTS[0];
    secrets.add(google.secret);
    const clientId = await createOAuthClient(api, tenant.operator, google);
    const started = await api.startOAuth({ clientId }, as(tenant.operator));
    secrets.add(started.state);
    spentState = started.state;
    secrets.add(new URL(started.loginUrl).searchParams.get("link")!);
    const consent = await consentAt(started.authorizationUrl);
    secrets.add(consent.code);
    await api.completeOAuth(consent);
    await api.completeOAuth(consent).catch(() => undefined); // a replay, logged as a failure
    await env.api[1].validateToken({ clientId }, as(tenant.service));
    await api.refreshToken({ clientId }, as(tenant.operator));
    env.clock.advance(3_599_000 - 100_000);
    await env.api[1].validateToken({ clientId }, as(tenant.service));
    const pending = await api.startOAuth({ clientId }, as(tenant.operator));
    secrets.add(pending.state);
    secrets.add(new URL(pending.loginUrl).searchParams.get("link")!);
    await api.updateClient({ id: clientId, clientSecret: "rotated-client-secret" }, as(tenant.operator));
    secrets.add("rotated-client-secret");
    for (const tokens of env.google.seen) {
      secrets.add(tokens.accessToken);
      if (tokens.refreshToken) secrets.add(tokens.refreshToken);
    }
    assert.ok(env.google.seen.length >= 3, "expected a code exchange and refreshes");
  });

  it("stores no token, secret, state, link or API key in plaintext in any table", async () => {
    const columns = (await env.dataSource.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')`,
    )) as { table_name: string; column_name: string }[];
    assert.ok(columns.some((c) => c.table_name === "tokens" && c.column_name === "refresh_token"));
    let scanned = 0;
    for (const { table_name: table, column_name: column } of columns) {
      const rows = (await env.dataSource.query(`SELECT "${column}"::text AS v FROM "${table}"`)) as { v: string | null }[];
      for (const { v } of rows) {
        if (v === null) continue;
        scanned += 1;
        for (const secret of secrets) assert.ok(!v.includes(secret), `${table}.${column} holds a secret in plaintext`);
      }
    }
    assert.ok(scanned > 20, `scanned only ${scanned} values`);
    const sealed = (await env.dataSource.query(`SELECT access_token, refresh_token FROM tokens`)) as {
      access_token: string;
      refresh_token: string;
    }[];
    for (const row of sealed) {
      assert.match(row.access_token, /^v1\.[A-Za-z0-9_-]+\./);
      assert.match(row.refresh_token, /^v1\.[A-Za-z0-9_-]+\./);
    }
  });

  it("logs no token, secret, state, link or API key", () => {
    const text = env.logs.text();
    assert.ok(text.length > 1_000, "expected the calls to be logged");
    for (const secret of secrets) assert.ok(!text.includes(secret), "a secret reached the logs");
  });

  it("keeps secrets out of error messages", async () => {
    const api = env.api[0];
    const err = ConnectError.from(
      await api.completeOAuth({ code: "4/0AbCdEfGhIjKlMnOp-secret-code", state: spentState }).catch((e: unknown) => e),
    );
    assert.equal(err.code, Code.InvalidArgument);
    for (const secret of secrets) assert.ok(!err.rawMessage.includes(secret));
    assert.ok(!err.rawMessage.includes("4/0AbCdEfGhIjKlMnOp-secret-code"));
  });
});
