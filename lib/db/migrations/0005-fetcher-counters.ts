import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Job progress counters split into shards. Every finished task used to add to its job's one
 * fetch_jobs row, so all tasks of a job queued behind that row's lock for the length of each
 * commit; now a task adds to one of a few shard rows (chosen at random) and a job's counters are
 * its fetch_jobs base values plus the sum of its shards. Owned by services/fetcher.
 */
export class FetcherCounters1732200000005 implements MigrationInterface {
  name = "FetcherCounters1732200000005";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE fetch_job_counters (
      job_id uuid NOT NULL,
      shard smallint NOT NULL,
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
      -- last time a task of this shard finished (the stall timeout), and last change of any kind
      progress_at timestamptz NULL,
      changed_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "PK_fetch_job_counters" PRIMARY KEY (job_id, shard),
      CONSTRAINT "FK_fetch_job_counters_job" FOREIGN KEY (job_id) REFERENCES fetch_jobs(id) ON DELETE CASCADE)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DROP TABLE fetch_job_counters");
  }
}
