import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ApiKeyRow, TenantRow } from "../db/index.js";
import { TEST_ADMIN_KEY } from "../../test/helpers/config.js";
import { useTestDatabase } from "../../test/helpers/database.js";
import { createApiKeyStore, mintApiKey, parseApiKey } from "./index.js";

describe("API key store", () => {
  const db = useTestDatabase();
  const tenantId = randomUUID();
  const minted = mintApiKey();

  before(async () => {
    await db.dataSource.getRepository(TenantRow).insert({ id: tenantId, name: "acme" });
    await db.dataSource
      .getRepository(ApiKeyRow)
      .insert({ id: minted.id, tenantId, role: "operator", name: "ci", secretHash: minted.secretHash });
  });

  it("authenticates a minted key as its role and tenant, storing only a hash", async () => {
    const store = createApiKeyStore({ dataSource: db.dataSource });
    assert.deepEqual(await store.authenticate(minted.key), { keyId: minted.id, role: "operator", tenantId });
    const rows = (await db.dataSource.query("SELECT secret_hash FROM api_keys")) as { secret_hash: string }[];
    assert.ok(rows.every((row) => !minted.key.includes(row.secret_hash) && !row.secret_hash.includes(parseApiKey(minted.key)!.secret)));
  });

  it("rejects malformed keys, unknown ids and a wrong secret for a known id, even after a cached success", async () => {
    const store = createApiKeyStore({ dataSource: db.dataSource });
    await store.authenticate(minted.key);
    const forged = minted.key.slice(0, -4) + (minted.key.endsWith("AAAA") ? "BBBB" : "AAAA");
    assert.equal(await store.authenticate(forged), undefined);
    assert.equal(await store.authenticate("rfk_nope"), undefined);
    assert.equal(await store.authenticate(mintApiKey().key), undefined);
  });

  it("stops accepting a revoked key once its cache entry expires", async () => {
    const store = createApiKeyStore({ dataSource: db.dataSource, cacheMs: 0 });
    const other = mintApiKey();
    await db.dataSource.getRepository(ApiKeyRow).insert({ id: other.id, tenantId, role: "reader", secretHash: other.secretHash });
    assert.equal((await store.authenticate(other.key))?.role, "reader");
    await db.dataSource.getRepository(ApiKeyRow).update({ id: other.id }, { revokedAt: new Date() });
    assert.equal(await store.authenticate(other.key), undefined);
  });

  it("accepts the bootstrap admin key from the environment without a row", async () => {
    const store = createApiKeyStore({ dataSource: db.dataSource, bootstrapAdminKey: TEST_ADMIN_KEY });
    assert.deepEqual(await store.authenticate(TEST_ADMIN_KEY), { keyId: "bootstrap-admin", role: "admin", tenantId: null });
    assert.equal(await store.authenticate(TEST_ADMIN_KEY.slice(0, -1)), undefined);
  });
});
