import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Review versions and one pass per location. Owned by services/fetcher.
 *
 * - reviews.version: every change reviewflow observes (created, updated, deleted, re-created)
 *   takes the next number, assigned by the row's own UPDATE (its row lock orders concurrent
 *   writers, so two passes can never hand out the same number).
 * - review_versions: every version with its content; also the outbox of the REVIEWS stream —
 *   a version is committed first and published after (published_at), so a crash in between
 *   leaves it for the maintenance sweep instead of losing it, and a review's versions are
 *   published in order by whoever publishes them.
 * - locations.pass_*: the lease of the one pass that may run over a location; location_waits:
 *   the first page tasks of other jobs parked until that pass ends (they hold no worker slot
 *   and spend no JetStream deliveries while they wait).
 */
export class ReviewVersions1732200000006 implements MigrationInterface {
  name = "ReviewVersions1732200000006";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reviews
      ADD COLUMN version integer NOT NULL DEFAULT 1,
      -- when the current version was observed: a full pass proposes as deleted only reviews whose
      -- current version is older than the pass
      ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`UPDATE reviews SET changed_at = first_seen_at`);

    await q.query(`CREATE TABLE review_versions (
      review_id bigint NOT NULL,
      version integer NOT NULL,
      type varchar(8) NOT NULL,
      -- the review as Google served it (for deletions: as it was last stored), binary protobuf
      review_pb bytea NOT NULL,
      update_time timestamptz NOT NULL,
      job_id uuid NULL,
      observed_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz NULL,
      CONSTRAINT "PK_review_versions" PRIMARY KEY (review_id, version),
      CONSTRAINT "FK_review_versions_review" FOREIGN KEY (review_id) REFERENCES reviews(id) ON DELETE CASCADE,
      CONSTRAINT "CHK_review_versions_type" CHECK (type IN ('created','updated','deleted')))`);
    await q.query(`CREATE INDEX "IDX_review_versions_unpublished" ON review_versions (observed_at) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX "IDX_review_versions_unpublished_job" ON review_versions (job_id) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX "IDX_review_versions_observed" ON review_versions (observed_at)`);
    // what was stored before versions existed is version 1, already published (as it was)
    await q.query(`INSERT INTO review_versions (review_id, version, type, review_pb, update_time, observed_at, published_at)
      SELECT id, 1, CASE WHEN deleted_at IS NULL THEN 'created' ELSE 'deleted' END, review_pb, update_time, first_seen_at, now() FROM reviews`);

    await q.query(`ALTER TABLE locations
      ADD COLUMN pass_job uuid NULL,
      ADD COLUMN pass_started_at timestamptz NULL,
      ADD COLUMN pass_until timestamptz NULL`);
    await q.query(`CREATE INDEX "IDX_locations_pass_job" ON locations (pass_job) WHERE pass_job IS NOT NULL`);

    await q.query(`CREATE TABLE location_waits (
      location_id uuid NOT NULL,
      job_id uuid NOT NULL,
      -- the parked first-page task: its id and its FetchReviewsTask bytes, republished on hand-off
      task_id varchar(200) NOT NULL,
      task bytea NOT NULL,
      -- hand-offs so far: each republish gets a fresh Nats-Msg-Id
      resumes integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_location_waits" PRIMARY KEY (location_id, job_id),
      CONSTRAINT "FK_location_waits_location" FOREIGN KEY (location_id) REFERENCES locations(id) ON DELETE CASCADE,
      CONSTRAINT "FK_location_waits_job" FOREIGN KEY (job_id) REFERENCES fetch_jobs(id) ON DELETE CASCADE)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DROP TABLE location_waits");
    await q.query("ALTER TABLE locations DROP COLUMN pass_job, DROP COLUMN pass_started_at, DROP COLUMN pass_until");
    await q.query("DROP TABLE review_versions");
    await q.query("ALTER TABLE reviews DROP COLUMN version, DROP COLUMN changed_at");
  }
}
