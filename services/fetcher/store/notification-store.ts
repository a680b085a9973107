import type { Sql } from "./db.js";

/**
 * Google's review notifications in Postgres: the messageIds handed on (de-duplication past
 * FETCH's duplicate window), and what the reconciler last found in each account's setting.
 */

/**
 * Records a Pub/Sub messageId once; false when it was seen before (a redelivery or a duplicate
 * publish). Runs in the transaction that creates the notification's passes, so a crash before
 * the commit leaves the message unseen and its redelivery does the work.
 */
export async function recordMessage(sql: Sql, messageId: string, publishTime: Date | undefined): Promise<boolean> {
  const { rows } = await sql.query(
    "INSERT INTO notification_messages (message_id, publish_time) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING RETURNING 1",
    [messageId, publishTime ?? null],
  );
  return rows.length > 0;
}

/** A client-owned location a notification names, with what a pass of it needs. */
export interface NotifiedLocation {
  id: string;
  scope_key: string;
  client_id: string;
  tenant_id: string | null;
  google_project: string | null;
}

/**
 * The client-scoped locations with this Google name (one per client connected to the account;
 * raw-token jobs' locations are not followed). The project is the scheduler's record of the
 * client, else that of the client's last job.
 */
export async function findNotifiedLocations(sql: Sql, googleName: string): Promise<NotifiedLocation[]> {
  const { rows } = await sql.query<NotifiedLocation>(
    `SELECT l.id, l.scope_key, l.client_id, l.tenant_id,
       COALESCE(c.google_project, (SELECT j.google_project FROM fetch_jobs j WHERE j.client_id = l.client_id ORDER BY j.created_at DESC LIMIT 1)) AS google_project
     FROM locations l LEFT JOIN sync_clients c ON c.client_id = l.client_id
     WHERE l.google_name = $1 AND l.client_id IS NOT NULL AND l.scope_key = l.client_id::text`,
    [googleName],
  );
  return rows;
}

/**
 * A notification pass of this review (in this scope) that has certainly not read it yet: still
 * QUEUED (a job turns RUNNING before its task runs), or parked behind another pass over the
 * location and never handed on. Its reviews.get comes after this notification's edit, so it
 * covers it: a burst of edits of one review costs one call, not one each.
 */
export async function pendingPassOf(sql: Sql, scopeKey: string, reviewName: string): Promise<string | undefined> {
  const { rows } = await sql.query<{ id: string }>(
    `SELECT j.id FROM fetch_jobs j
     WHERE j.target_review = $2 AND j.scope_key = $1 AND j.trigger = 'notification' AND j.status IN ('QUEUED','RUNNING')
       AND (j.status = 'QUEUED' OR EXISTS (SELECT 1 FROM location_waits w WHERE w.job_id = j.id AND w.resumes = 0))
     LIMIT 1`,
    [scopeKey, reviewName],
  );
  return rows[0]?.id;
}

/** Links the message to the first pass it started (for the change-to-event latency). */
export async function linkMessageToJob(sql: Sql, messageId: string, jobId: string): Promise<void> {
  await sql.query("UPDATE notification_messages SET job_id = $2 WHERE message_id = $1 AND job_id IS NULL", [messageId, jobId]);
}

/** When Pub/Sub accepted the oldest notification this job answers (undefined for other jobs). */
export async function notificationPublishTime(sql: Sql, jobId: string): Promise<Date | undefined> {
  const { rows } = await sql.query<{ publish_time: Date | null }>(
    "SELECT min(publish_time) AS publish_time FROM notification_messages WHERE job_id = $1",
    [jobId],
  );
  return rows[0]?.publish_time ?? undefined;
}

/** Forgets messageIds older than the retention period (Pub/Sub keeps messages 7 days at most). */
export async function purgeMessages(sql: Sql, retentionDays: number): Promise<number> {
  const { count } = await sql.query("DELETE FROM notification_messages WHERE received_at < now() - make_interval(days => $1)", [
    retentionDays,
  ]);
  return count;
}

export type AccountNotificationState = "ours" | "foreign" | "taken_over" | "failed" | "off";

export interface AccountNotificationRow {
  client_id: string;
  account_name: string;
  state: AccountNotificationState;
  pubsub_topic: string;
  detail: string;
  checked_at: Date;
}

export async function saveAccountNotification(sql: Sql, row: Omit<AccountNotificationRow, "checked_at">): Promise<void> {
  await sql.query(
    `INSERT INTO notification_accounts (client_id, account_name, state, pubsub_topic, detail, checked_at) VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (client_id, account_name) DO UPDATE SET state = EXCLUDED.state, pubsub_topic = EXCLUDED.pubsub_topic, detail = EXCLUDED.detail, checked_at = now()`,
    [row.client_id, row.account_name, row.state, row.pubsub_topic, row.detail],
  );
}

export async function loadAccountNotifications(sql: Sql, clientId: string): Promise<AccountNotificationRow[]> {
  const { rows } = await sql.query<AccountNotificationRow>(
    "SELECT client_id, account_name, state, pubsub_topic, detail, checked_at FROM notification_accounts WHERE client_id = $1 ORDER BY account_name",
    [clientId],
  );
  return rows;
}
