import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Google's review notifications (Cloud Pub/Sub). Owned by services/fetcher (notifications/).
 *
 * - notification_messages: every Pub/Sub messageId handed on, so a redelivery days later (past
 *   FETCH's two-minute duplicate window) is still recognised; purged with the retention period.
 * - notification_accounts: what the reconciler last saw of each connected account's
 *   notificationSetting: ours, set, someone else's topic (left alone), or failing, and why.
 * - sync_policies.take_over_notifications: the client allows the reconciler to replace a topic
 *   that is someone else's (NULL = the default, false).
 * - fetch_jobs.target_review: a notification's one-review pass (reviews.get of this review only),
 *   indexed while active so a burst of edits of one review coalesces into the pass not yet run.
 */
export class Notifications1732200000010 implements MigrationInterface {
  name = "Notifications1732200000010";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE notification_messages (
      message_id varchar(256) PRIMARY KEY,
      received_at timestamptz NOT NULL DEFAULT now(),
      publish_time timestamptz NULL,
      job_id uuid NULL)`);
    await q.query(`CREATE INDEX "IDX_notification_messages_received" ON notification_messages (received_at)`);
    await q.query(`CREATE TABLE notification_accounts (
      client_id uuid NOT NULL,
      account_name varchar(255) NOT NULL,
      state varchar(16) NOT NULL CHECK (state IN ('ours','foreign','taken_over','failed','off')),
      pubsub_topic text NOT NULL DEFAULT '',
      detail text NOT NULL DEFAULT '',
      checked_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (client_id, account_name))`);
    await q.query("ALTER TABLE sync_policies ADD COLUMN take_over_notifications boolean NULL");
    await q.query("ALTER TABLE fetch_jobs ADD COLUMN target_review text NULL");
    // finds a notification pass of the same review that has not read it yet (to coalesce into)
    await q.query(
      `CREATE INDEX "IDX_fetch_jobs_active_target_review" ON fetch_jobs (target_review) WHERE target_review IS NOT NULL AND status IN ('QUEUED','RUNNING')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE fetch_jobs DROP COLUMN IF EXISTS target_review");
    await q.query("ALTER TABLE sync_policies DROP COLUMN IF EXISTS take_over_notifications");
    await q.query("DROP TABLE IF EXISTS notification_accounts");
    await q.query("DROP TABLE IF EXISTS notification_messages");
  }
}
