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

  it("moves the outbox into review_publications and back, and a location deleted by hand takes its reviews' history with it", async () => {
    const ds = await openDatabase({ databaseUrl: url });
    try {
      const [location] = (await ds.query(
        `INSERT INTO locations (id, scope_key, google_name) VALUES (gen_random_uuid(), 'test', 'accounts/1/locations/outbox') RETURNING id`,
      )) as { id: string }[];
      const [review] = (await ds.query(
        `INSERT INTO reviews (location_id, name, star_rating, update_time, review_pb, content_hash, version)
         VALUES ($1, 'accounts/1/locations/outbox/reviews/r', 5, now(), '\\x01', 'h', 2) RETURNING id`,
        [location!.id],
      )) as { id: string }[];
      for (const [version, publishedAt] of [
        [1, "2026-01-01T00:00:00Z"],
        [2, null],
      ] as const) {
        await ds.query(
          `INSERT INTO review_versions (review_id, version, type, review_pb, update_time) VALUES ($1, $2, 'created', '\\x01', now())`,
          [review!.id, version],
        );
        await ds.query("INSERT INTO review_publications (review_id, version, published_at) VALUES ($1, $2, $3)", [
          review!.id,
          version,
          publishedAt,
        ]);
      }
      const published = async (table: string) =>
        (
          (await ds.query(`SELECT version, published_at FROM ${table} WHERE review_id = $1 ORDER BY version`, [review!.id])) as {
            version: number;
            published_at: Date | null;
          }[]
        ).map((r) => [r.version, r.published_at?.toISOString() ?? null]);
      const expected = [
        [1, "2026-01-01T00:00:00.000Z"],
        [2, null],
      ];

      await ds.undoLastMigration({ transaction: "each" });
      assert.deepEqual(await published("review_versions"), expected, "down: published_at back on the versions");
      assert.deepEqual(await runMigrations(ds), [migrations.at(-1)!.name]);
      assert.deepEqual(await published("review_publications"), expected, "up: the publications carry it");

      await ds.query("DELETE FROM locations WHERE id = $1", [location!.id]);
      for (const table of ["reviews", "review_versions", "review_publications"]) {
        const column = table === "reviews" ? "id" : "review_id";
        const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [review!.id])) as { n: number }[];
        assert.equal(n, 0, `${table} keeps the deleted location's review`);
      }
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
