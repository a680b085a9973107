import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Continuous sync. Owned by services/fetcher.
 *
 * - sync_policies: what was set per client over the SYNC_* defaults (NULL = the default).
 * - sync_clients: the scheduler's view of each client (read from the TokenService): whether it
 *   is connected, why it is skipped, and when its next full pass (reconciliation) is due.
 * - locations: when each location was last passed over (completely), when it is due next, its
 *   observed rate of changes and the interval that rate earns it.
 * - fetch_jobs.trigger: what started a job (on_demand, schedule, reconciliation, notification).
 */
export class Sync1732200000008 implements MigrationInterface {
  name = "Sync1732200000008";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE sync_policies (
      client_id uuid PRIMARY KEY,
      tenant_id uuid NULL,
      enabled boolean NULL,
      incremental_every_seconds integer NULL,
      full_every_seconds integer NULL,
      adaptive boolean NULL,
      min_incremental_seconds integer NULL,
      max_incremental_seconds integer NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by varchar(64) NOT NULL DEFAULT 'system')`);

    await q.query(`CREATE TABLE sync_clients (
      client_id uuid PRIMARY KEY,
      tenant_id uuid NULL,
      -- the Google OAuth client id: the quota key of the client's jobs
      google_project varchar(255) NOT NULL,
      connected boolean NOT NULL,
      -- why the scheduler skips the client ('' when it does not), e.g. needs re-consent
      skip_reason text NOT NULL DEFAULT '',
      next_full_at timestamptz NULL,
      last_full_at timestamptz NULL,
      seen_at timestamptz NOT NULL DEFAULT now())`);

    await q.query(`ALTER TABLE locations
      ADD COLUMN last_pass_at timestamptz NULL,
      ADD COLUMN last_complete_pass_at timestamptz NULL,
      ADD COLUMN next_due_at timestamptz NULL,
      ADD COLUMN changes_per_day double precision NOT NULL DEFAULT 0,
      ADD COLUMN interval_seconds integer NULL`);
    await q.query(`CREATE INDEX "IDX_locations_next_due" ON locations (next_due_at) WHERE next_due_at IS NOT NULL`);

    await q.query(`ALTER TABLE fetch_jobs ADD COLUMN trigger varchar(16) NOT NULL DEFAULT 'on_demand',
      ADD CONSTRAINT "CHK_fetch_jobs_trigger" CHECK (trigger IN ('on_demand','schedule','reconciliation','notification'))`);
    await q.query(
      `CREATE INDEX "IDX_fetch_jobs_active_target" ON fetch_jobs (scope_key, target_location) WHERE status IN ('QUEUED','RUNNING')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_fetch_jobs_active_target"`);
    await q.query(`ALTER TABLE fetch_jobs DROP CONSTRAINT "CHK_fetch_jobs_trigger", DROP COLUMN trigger`);
    await q.query(`DROP INDEX "IDX_locations_next_due"`);
    await q.query(`ALTER TABLE locations DROP COLUMN last_pass_at, DROP COLUMN last_complete_pass_at, DROP COLUMN next_due_at,
      DROP COLUMN changes_per_day, DROP COLUMN interval_seconds`);
    await q.query("DROP TABLE sync_clients");
    await q.query("DROP TABLE sync_policies");
  }
}
