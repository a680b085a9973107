import assert from "node:assert/strict";
import { useTestDatabase } from "../../test/helpers/index.js";
import { tokenEntities } from "./entities/index.js";

const TOKEN_TABLES = ["clients", "branches", "tokens", "oauth_states", "oauth_login_links"];

describe("TokenService schema", () => {
  const db = useTestDatabase(tokenEntities);

  it("matches the entities exactly: the schema diff for the token tables is empty", async () => {
    const { upQueries } = await db.dataSource.driver.createSchemaBuilder().log();
    const ours = upQueries.map((q) => q.query).filter((q) => TOKEN_TABLES.some((t) => q.includes(`"${t}"`)));
    assert.deepEqual(ours, []);
  });

  it("cascades a client's deletion to its branches, tokens, states and login links", async () => {
    const fks = (await db.dataSource.query(
      `SELECT conname, confdeltype FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY($1)`,
      [TOKEN_TABLES],
    )) as { conname: string; confdeltype: string }[];
    assert.ok(fks.length >= 6);
    for (const fk of fks) assert.equal(fk.confdeltype, "c", `${fk.conname} must cascade`);
  });
});
