import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * ReviewFetcher tables: fetch_jobs, fetch_tasks, locations, reviews, dead_letters,
 * stage_controls and google_quota. Owned by services/fetcher.
 *
 * No foreign keys to the TokenService's tables (clients, branches): services own their tables
 * and talk over gRPC, so a client deleted there must not fail or cascade into job history here.
 */
export class Fetcher1732200000003 implements MigrationInterface {
  name = "Fetcher1732200000003";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE fetch_jobs (
      id uuid PRIMARY KEY,
      tenant_id uuid NULL,
      client_id uuid NULL,
      branch_id uuid NULL,
      -- branch jobs: the one location, accounts/{a}/locations/{l}
      target_location varchar(300) NULL,
      -- who the job's locations and reviews belong to, and the REVIEWS subject token:
      -- the client id, or raw-<hash> for raw-token jobs
      scope_key varchar(100) NOT NULL,
      -- the shared quota key: the Google OAuth client id (one Cloud project)
      google_project varchar(255) NOT NULL,
      -- raw-token jobs only: AES-GCM sealed, bound to the job id, wiped when the job ends
      access_token_sealed text NULL,
      mode varchar(16) NOT NULL,
      status varchar(16) NOT NULL,
      error text NOT NULL DEFAULT '',
      -- idempotency: request_id is unique per requester scope (the caller's tenant, or "admin")
      request_scope varchar(64) NULL,
      request_id varchar(100) NULL,
      created_by varchar(64) NOT NULL,
      accounts bigint NOT NULL DEFAULT 0,
      locations bigint NOT NULL DEFAULT 0,
      pages bigint NOT NULL DEFAULT 0,
      reviews_seen bigint NOT NULL DEFAULT 0,
      created bigint NOT NULL DEFAULT 0,
      updated bigint NOT NULL DEFAULT 0,
      unchanged bigint NOT NULL DEFAULT 0,
      deleted bigint NOT NULL DEFAULT 0,
      retries bigint NOT NULL DEFAULT 0,
      dead_lettered bigint NOT NULL DEFAULT 0,
      tasks_total bigint NOT NULL DEFAULT 0,
      tasks_done bigint NOT NULL DEFAULT 0,
      -- false until the first task is on FETCH: a sweeper republishes it after a crash in between
      root_published boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz NULL,
      ended_at timestamptz NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      -- last time a task of the job finished: the stall timeout counts from here
      progress_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "CHK_fetch_jobs_status" CHECK (status IN ('QUEUED','RUNNING','SUCCEEDED','PARTIAL','FAILED','CANCELLED')),
      CONSTRAINT "CHK_fetch_jobs_mode" CHECK (mode IN ('incremental','full')))`);
    await q.query(`CREATE UNIQUE INDEX "UQ_fetch_jobs_request" ON fetch_jobs (request_scope, request_id) WHERE request_id IS NOT NULL`);
    await q.query(`CREATE INDEX "IDX_fetch_jobs_active" ON fetch_jobs (status) WHERE status IN ('QUEUED','RUNNING')`);
    await q.query(`CREATE INDEX "IDX_fetch_jobs_created" ON fetch_jobs (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_fetch_jobs_tenant_created" ON fetch_jobs (tenant_id, created_at DESC, id DESC)`);

    // One row per task ever published for a job, keyed by its deterministic id: completion is
    // counted once per row (state pending -> done|dead), so a redelivered task never counts twice.
    await q.query(`CREATE TABLE fetch_tasks (
      id varchar(200) PRIMARY KEY,
      job_id uuid NOT NULL,
      stage varchar(16) NOT NULL,
      state varchar(8) NOT NULL,
      -- bumped by each replay, so the replayed message and its dead letter get fresh ids
      generation integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz NULL,
      CONSTRAINT "FK_fetch_tasks_job" FOREIGN KEY (job_id) REFERENCES fetch_jobs(id) ON DELETE CASCADE,
      CONSTRAINT "CHK_fetch_tasks_state" CHECK (state IN ('pending','done','dead')))`);
    await q.query(`CREATE INDEX "IDX_fetch_tasks_job_state" ON fetch_tasks (job_id, state)`);

    await q.query(`CREATE TABLE locations (
      id uuid PRIMARY KEY,
      scope_key varchar(100) NOT NULL,
      google_name varchar(300) NOT NULL,
      tenant_id uuid NULL,
      client_id uuid NULL,
      title varchar(300) NOT NULL DEFAULT '',
      -- incremental watermark: every review updated after it has been stored by a complete pass
      synced_update_time timestamptz NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "UQ_locations_scope_name" UNIQUE (scope_key, google_name))`);
    await q.query(`CREATE INDEX "IDX_locations_client" ON locations (client_id)`);
    await q.query(`CREATE INDEX "IDX_locations_google_name" ON locations (google_name)`);

    await q.query(`CREATE TABLE reviews (
      id bigserial PRIMARY KEY,
      location_id uuid NOT NULL,
      name varchar(400) NOT NULL,
      tenant_id uuid NULL,
      client_id uuid NULL,
      star_rating smallint NOT NULL,
      update_time timestamptz NOT NULL,
      -- the reviewflow.reviews.v1.Review as last fetched (binary protobuf) and its SHA-256
      review_pb bytea NOT NULL,
      content_hash varchar(64) NOT NULL,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_job uuid NULL,
      deleted_at timestamptz NULL,
      CONSTRAINT "FK_reviews_location" FOREIGN KEY (location_id) REFERENCES locations(id) ON DELETE CASCADE,
      CONSTRAINT "UQ_reviews_location_name" UNIQUE (location_id, name))`);
    await q.query(`CREATE INDEX "IDX_reviews_location_update" ON reviews (location_id, update_time DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_reviews_tenant_update" ON reviews (tenant_id, update_time DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_reviews_update" ON reviews (update_time DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_reviews_last_seen" ON reviews (last_seen_at)`);

    await q.query(`CREATE TABLE dead_letters (
      id uuid PRIMARY KEY,
      job_id uuid NOT NULL,
      tenant_id uuid NULL,
      task_id varchar(200) NOT NULL,
      stage varchar(16) NOT NULL,
      subject varchar(200) NOT NULL,
      task_type varchar(100) NOT NULL,
      task bytea NOT NULL,
      resource varchar(400) NOT NULL DEFAULT '',
      error_code varchar(64) NOT NULL,
      error_message text NOT NULL DEFAULT '',
      http_status integer NOT NULL DEFAULT 0,
      attempts integer NOT NULL DEFAULT 0,
      failed_at timestamptz NOT NULL DEFAULT now(),
      replayed_at timestamptz NULL,
      CONSTRAINT "FK_dead_letters_job" FOREIGN KEY (job_id) REFERENCES fetch_jobs(id) ON DELETE CASCADE)`);
    await q.query(`CREATE INDEX "IDX_dead_letters_failed" ON dead_letters (failed_at DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_dead_letters_tenant_failed" ON dead_letters (tenant_id, failed_at DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_dead_letters_job" ON dead_letters (job_id)`);

    // Pause switches read by every instance's workers.
    await q.query(`CREATE TABLE stage_controls (
      stage varchar(16) PRIMARY KEY,
      paused boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by varchar(64) NOT NULL DEFAULT 'system')`);
    await q.query(`INSERT INTO stage_controls (stage) VALUES ('accounts'), ('locations'), ('reviews')`);

    // rate-limiter-flexible's RateLimiterPostgres table (its own DDL, created here so start-up
    // needs no CREATE privilege and no race between instances): one row per Google project.
    await q.query(`CREATE TABLE google_quota (
      key varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ["google_quota", "stage_controls", "dead_letters", "reviews", "locations", "fetch_tasks", "fetch_jobs"]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
