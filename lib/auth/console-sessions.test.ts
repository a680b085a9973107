import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ApiKeyRow, TenantRow } from "../db/index.js";
import { useTestDatabase } from "../../test/helpers/database.js";
import { createApiKeyStore, createConsoleSessionStore, csrfMatches, mintApiKey } from "./index.js";

describe("console sessions", () => {
  const db = useTestDatabase();
  const tenantId = randomUUID();

  before(async () => {
    await db.dataSource.getRepository(TenantRow).insert({ id: tenantId, name: "acme" });
  });

  const newKey = async (role: "operator" | "reader") => {
    const minted = mintApiKey();
    await db.dataSource.getRepository(ApiKeyRow).insert({ id: minted.id, tenantId, role, secretHash: minted.secretHash });
    return minted;
  };

  it("stands for the key it was signed in with, in every store reading the table, storing only a hash", async () => {
    const key = await newKey("operator");
    const sessions = createConsoleSessionStore({ dataSource: db.dataSource, cacheMs: 0 });
    const { token, session } = await sessions.create({ keyId: key.id, role: "operator", tenantId });
    assert.match(token, /^rfs_/);
    // another instance (its own store) accepts it, as the key's caller
    const elsewhere = createApiKeyStore({ dataSource: db.dataSource, cacheMs: 0 });
    assert.deepEqual(await elsewhere.authenticate(token), { keyId: key.id, role: "operator", tenantId });
    const rows = (await db.dataSource.query("SELECT id_hash FROM console_sessions")) as { id_hash: string }[];
    assert.ok(rows.every((r) => !token.includes(r.id_hash) && r.id_hash.length === 64));
    assert.equal(csrfMatches(session, session.csrfToken), true);
    assert.equal(csrfMatches(session, undefined), false);
    assert.equal(csrfMatches(session, session.csrfToken.slice(1)), false);
  });

  it("ends on sign-out, on expiry and when its key is revoked", async () => {
    const key = await newKey("reader");
    const caller = { keyId: key.id, role: "reader" as const, tenantId };
    const sessions = createConsoleSessionStore({ dataSource: db.dataSource, cacheMs: 60_000 });
    const signedOut = await sessions.create(caller);
    assert.ok(await sessions.lookup(signedOut.token));
    await sessions.end(signedOut.token);
    assert.equal(await sessions.lookup(signedOut.token), undefined, "at once on the instance that signed out, cache or not");

    const short = createConsoleSessionStore({ dataSource: db.dataSource, ttlMs: 1, cacheMs: 0 });
    const expired = await short.create(caller);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await short.lookup(expired.token), undefined);

    const fresh = createConsoleSessionStore({ dataSource: db.dataSource, cacheMs: 0 });
    const live = await fresh.create(caller);
    assert.ok(await fresh.lookup(live.token));
    await db.dataSource.getRepository(ApiKeyRow).update({ id: key.id }, { revokedAt: new Date() });
    assert.equal(await fresh.lookup(live.token), undefined);
  });

  it("accepts a session of ADMIN_API_KEY only where that key is configured, and refuses malformed tokens", async () => {
    const sessions = createConsoleSessionStore({ dataSource: db.dataSource, cacheMs: 0, allowBootstrapAdmin: true });
    const { token } = await sessions.create({ keyId: "bootstrap-admin", role: "admin", tenantId: null });
    assert.deepEqual((await sessions.lookup(token))?.caller, { keyId: "bootstrap-admin", role: "admin", tenantId: null });
    const withoutAdmin = createApiKeyStore({ dataSource: db.dataSource, cacheMs: 0 });
    assert.equal(await withoutAdmin.authenticate(token), undefined);
    assert.equal(await sessions.lookup("rfs_short"), undefined);
    assert.equal(await sessions.lookup(`rfs_${"A".repeat(43)}`), undefined);
  });
});
