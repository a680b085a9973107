// lib/db hands out the pool TypeORM holds and tells a unique violation by SQLSTATE, raw from
// node-postgres or wrapped by TypeORM.
import assert from "node:assert/strict";
import { useTestDatabase } from "../../test/helpers/index.js";
import { isUniqueViolation, sharedPool } from "./index.js";

describe("lib/db pools and Postgres errors", () => {
  const db = useTestDatabase();

  it("shares TypeORM's pool, and knows a unique violation (and its constraint) through either wrapper", async () => {
    const pool = sharedPool(db.dataSource);
    const before = pool.totalCount;
    await pool.query("CREATE TABLE pool_probe (x int CONSTRAINT pool_probe_x UNIQUE)");
    await db.dataSource.query("INSERT INTO pool_probe VALUES (1)");
    assert.ok(pool.totalCount >= before, "the same pool served both");
    const raw = await pool.query("INSERT INTO pool_probe VALUES (1)").catch((err: unknown) => err);
    const wrapped = await db.dataSource.query("INSERT INTO pool_probe VALUES (1)").catch((err: unknown) => err);
    for (const err of [raw, wrapped]) {
      assert.equal(isUniqueViolation(err), true);
      assert.equal(isUniqueViolation(err, "pool_probe_x"), true);
      assert.equal(isUniqueViolation(err, "another_constraint"), false);
    }
    assert.equal(isUniqueViolation(new Error("duplicate key value violates unique constraint")), false);
  });
});
