import assert from "node:assert/strict";
import { useTestDatabase } from "../../../test/helpers/database.js";
import { createDb } from "./db.js";
import { loadPendingVersions, markPublished, renumberPending, reviewsWithStalePending } from "./review-outbox-store.js";
import { purgeOldReviews } from "./review-store.js";

/**
 * The outbox on its own table (migration 0013): a version's row in review_versions is written
 * once; what is unpublished, marked, renumbered and purged is read from review_publications.
 */
describe("the REVIEWS outbox in review_publications", () => {
  const t = useTestDatabase();

  /** A review at `current`, with versions 1..current observed `ageSeconds` ago; those in `published` are published. */
  async function seedReview(name: string, current: number, published: number[], ageSeconds: number): Promise<string> {
    const ds = t.dataSource;
    const [location] = (await ds.query(
      `INSERT INTO locations (id, scope_key, google_name) VALUES (gen_random_uuid(), 'outbox', $1) RETURNING id`,
      [`accounts/1/locations/${name}`],
    )) as { id: string }[];
    const [review] = (await ds.query(
      `INSERT INTO reviews (location_id, name, star_rating, update_time, review_pb, content_hash, version)
       VALUES ($1, $2, 5, now(), $3, 'h', $4) RETURNING id::text AS id`,
      [location!.id, `accounts/1/locations/${name}/reviews/r`, Buffer.from([current]), current],
    )) as { id: string }[];
    const observed = `now() - make_interval(secs => ${ageSeconds})`;
    for (let v = 1; v <= current; v++) {
      await ds.query(
        `INSERT INTO review_versions (review_id, version, type, review_pb, update_time, observed_at)
         VALUES ($1, $2, $3, $4, now(), ${observed})`,
        [review!.id, v, v === 1 ? "created" : "updated", Buffer.from([v])],
      );
      await ds.query(
        `INSERT INTO review_publications (review_id, version, observed_at, published_at)
         VALUES ($1, $2, ${observed}, CASE WHEN $3::boolean THEN now() END)`,
        [review!.id, v, published.includes(v)],
      );
    }
    return review!.id;
  }

  const versionsOf = async (table: string, reviewId: string) =>
    (
      (await t.dataSource.query(`SELECT version FROM ${table} WHERE review_id = $1 ORDER BY version`, [reviewId])) as { version: number }[]
    ).map((r) => r.version);

  it("loads a review's unpublished versions in order with the bytes before each, sweeps only old ones, and marks them", async () => {
    const sql = createDb(t.dataSource);
    const old = await seedReview("pending-old", 3, [1], 120);
    const fresh = await seedReview("pending-fresh", 1, [], 0);

    const pending = await loadPendingVersions(sql, [old, fresh]);
    assert.deepEqual(
      pending.map((p) => [p.review_id, p.version, p.type, [...p.review_pb], p.prev_pb && [...p.prev_pb]]),
      [
        [old, 2, "updated", [2], [1]],
        [old, 3, "updated", [3], [2]],
        [fresh, 1, "created", [1], null],
      ],
    );
    // the sweep takes only what its publisher has had time to publish
    assert.deepEqual(await reviewsWithStalePending(sql, 60, 500), [old]);

    // the version rows are written once: a mark rewrites the publication alone (a row's xmin is
    // the transaction that wrote its current copy)
    const writers = async (table: string) =>
      (await t.dataSource.query(`SELECT version, xmin::text AS writer FROM ${table} WHERE review_id = $1 ORDER BY version`, [old])) as {
        version: number;
        writer: string;
      }[];
    const versionWriters = await writers("review_versions");
    const publicationWriters = await writers("review_publications");
    await markPublished(sql, [{ reviewId: old, version: 2 }]);
    assert.deepEqual(
      (await loadPendingVersions(sql, [old])).map((p) => p.version),
      [3],
    );
    await markPublished(sql, [{ reviewId: old, version: 3 }]);
    assert.deepEqual(await reviewsWithStalePending(sql, 60, 500), []);
    assert.deepEqual(await writers("review_versions"), versionWriters);
    const rewritten = await writers("review_publications");
    assert.deepEqual(
      rewritten.map((r, i) => [r.version, r.writer !== publicationWriters[i]!.writer]),
      [
        [1, false],
        [2, true],
        [3, true],
      ],
    );
  });

  it("renumbers a review's unpublished versions in both tables, past every number handed out", async () => {
    const sql = createDb(t.dataSource);
    const review = await seedReview("renumber", 3, [1], 0);
    assert.equal(await renumberPending(sql, review, 2), 4);
    assert.deepEqual(await versionsOf("review_versions", review), [1, 4, 5]);
    assert.deepEqual(await versionsOf("review_publications", review), [1, 4, 5]);
    assert.deepEqual(
      (await loadPendingVersions(sql, [review])).map((p) => [p.version, [...p.review_pb]]),
      [
        [4, [2]],
        [5, [3]],
      ],
    );
  });

  it("purges a review's old published versions with their publications, and keeps its current and unpublished ones", async () => {
    const sql = createDb(t.dataSource);
    const review = await seedReview("purge", 4, [1, 2, 4], 40 * 86_400);
    await purgeOldReviews(sql, 30);
    // 1 and 2: published and older than the window; 3: not yet published; 4: the current version
    assert.deepEqual(await versionsOf("review_versions", review), [3, 4]);
    assert.deepEqual(await versionsOf("review_publications", review), [3, 4]);
  });
});
