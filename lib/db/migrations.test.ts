import assert from "node:assert/strict";
import pg from "pg";
import { dropDatabase, migrations, openDatabase, runMigrations } from "./index.js";
import { uniqueDatabaseUrl } from "../../test/helpers/database.js";

describe("database migrations", () => {
  const url = uniqueDatabaseUrl();
  after(() => dropDatabase(url));

  it("creates the database when missing and migrates it", async () => {
    const ds = await openDatabase({ databaseUrl: url });
    try {
      const tables = (await ds.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) as {
        table_name: string;
      }[];
      const names = tables.map((t) => t.table_name);
      for (const table of ["tenants", "api_keys", "audit_log", "migrations"]) assert.ok(names.includes(table), `missing ${table}`);
      const applied = (await ds.query("SELECT name FROM migrations ORDER BY id")) as { name: string }[];
      assert.deepEqual(
        applied.map((m) => m.name),
        migrations.map((m) => m.name),
      );
    } finally {
      await ds.destroy();
    }
  });

  it("is idempotent: a second start applies nothing", async () => {
    const ds = await openDatabase({ databaseUrl: url });
    try {
      assert.deepEqual(await runMigrations(ds), []);
    } finally {
      await ds.destroy();
    }
  });

  it("lets two instances start at once", async () => {
    const fresh = uniqueDatabaseUrl();
    try {
      const both = await Promise.all([openDatabase({ databaseUrl: fresh }), openDatabase({ databaseUrl: fresh })]);
      await Promise.all(both.map((ds) => ds.destroy()));
      const client = new pg.Client({ connectionString: fresh });
      await client.connect();
      const { rows } = await client.query("SELECT count(*)::int AS n FROM migrations");
      await client.end();
      assert.equal(rows[0].n, migrations.length);
    } finally {
      await dropDatabase(fresh);
    }
  });
});
