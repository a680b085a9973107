import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Quota lanes. Owned by services/fetcher (pipeline/google-quota.ts).
 *
 * google_quota_lanes: one row per (Google project, lane, fetcher instance), written only by that
 * instance, so instances never wait on each other's rows:
 * - usage: the slots the instance granted to the lane, decayed exponentially to `at` (ms since
 *   the epoch); a lane's recent use is the sum over instances, decayed to now;
 * - waiting_until: while the instance has callers of the lane waiting for a slot, a moment a
 *   little ahead (refreshed as they keep waiting, 0 once they are served), so a crashed instance
 *   stops counting as waiting by itself.
 * The hard cap stays google_quota's per-project limiter; these rows only decide which lane goes
 * next. They live for seconds and matter to no one after a crash, hence UNLOGGED (no WAL).
 */
export class QuotaLanes1732200000009 implements MigrationInterface {
  name = "QuotaLanes1732200000009";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE google_quota_lanes (
      project varchar(255) NOT NULL,
      lane varchar(16) NOT NULL,
      instance uuid NOT NULL,
      usage double precision NOT NULL DEFAULT 0,
      at bigint NOT NULL,
      waiting_until bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (project, lane, instance))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DROP TABLE IF EXISTS google_quota_lanes");
  }
}
