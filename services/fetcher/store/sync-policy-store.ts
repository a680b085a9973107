import type { SyncPolicyPatch, SyncPolicyRow } from "../sync/policy.js";
import type { Sql } from "./db.js";

const COLUMNS = `client_id, tenant_id, enabled, incremental_every_seconds, full_every_seconds, adaptive,
  min_incremental_seconds, max_incremental_seconds, take_over_notifications, updated_at, updated_by`;

/** What was set for one client over the defaults, if anything ever was. */
export async function loadPolicy(sql: Sql, clientId: string): Promise<SyncPolicyRow | undefined> {
  const { rows } = await sql.query<SyncPolicyRow>(`SELECT ${COLUMNS} FROM sync_policies WHERE client_id = $1`, [clientId]);
  return rows[0];
}

/** The rows of the clients that have one, by client id (a client without one uses the defaults). */
export async function loadPolicies(sql: Sql, clientIds: readonly string[]): Promise<Map<string, SyncPolicyRow>> {
  if (clientIds.length === 0) return new Map();
  const { rows } = await sql.query<SyncPolicyRow>(`SELECT ${COLUMNS} FROM sync_policies WHERE client_id = ANY($1::uuid[])`, [clientIds]);
  return new Map(rows.map((row) => [row.client_id, row]));
}

export interface PolicyUpdate {
  clientId: string;
  tenantId: string | null;
  /** The fields to set; those absent keep their value (or, with `reset`, go back to the default). */
  patch: SyncPolicyPatch;
  /** Drop everything set before applying `patch`: absent fields become NULL (the default). */
  reset: boolean;
  /** Who changed it (the API key id). */
  by: string;
}

/** Sets a client's fields (upsert; one statement, so concurrent updates each apply whole) and returns the row as it now is. */
export async function updatePolicy(sql: Sql, update: PolicyUpdate): Promise<SyncPolicyRow> {
  const { patch } = update;
  const { rows } = await sql.query<SyncPolicyRow>(
    `INSERT INTO sync_policies AS p (client_id, tenant_id, enabled, incremental_every_seconds, full_every_seconds, adaptive,
       min_incremental_seconds, max_incremental_seconds, take_over_notifications, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $11, now(), $9)
     ON CONFLICT (client_id) DO UPDATE SET
       tenant_id = EXCLUDED.tenant_id,
       enabled = CASE WHEN $10 THEN EXCLUDED.enabled ELSE COALESCE(EXCLUDED.enabled, p.enabled) END,
       incremental_every_seconds = CASE WHEN $10 THEN EXCLUDED.incremental_every_seconds ELSE COALESCE(EXCLUDED.incremental_every_seconds, p.incremental_every_seconds) END,
       full_every_seconds = CASE WHEN $10 THEN EXCLUDED.full_every_seconds ELSE COALESCE(EXCLUDED.full_every_seconds, p.full_every_seconds) END,
       adaptive = CASE WHEN $10 THEN EXCLUDED.adaptive ELSE COALESCE(EXCLUDED.adaptive, p.adaptive) END,
       min_incremental_seconds = CASE WHEN $10 THEN EXCLUDED.min_incremental_seconds ELSE COALESCE(EXCLUDED.min_incremental_seconds, p.min_incremental_seconds) END,
       max_incremental_seconds = CASE WHEN $10 THEN EXCLUDED.max_incremental_seconds ELSE COALESCE(EXCLUDED.max_incremental_seconds, p.max_incremental_seconds) END,
       take_over_notifications = CASE WHEN $10 THEN EXCLUDED.take_over_notifications ELSE COALESCE(EXCLUDED.take_over_notifications, p.take_over_notifications) END,
       updated_at = now(), updated_by = EXCLUDED.updated_by
     RETURNING ${COLUMNS}`,
    [
      update.clientId,
      update.tenantId,
      patch.enabled ?? null,
      patch.incrementalEverySeconds ?? null,
      patch.fullEverySeconds ?? null,
      patch.adaptive ?? null,
      patch.minIncrementalSeconds ?? null,
      patch.maxIncrementalSeconds ?? null,
      update.by,
      update.reset,
      patch.takeOverNotifications ?? null,
    ],
  );
  return rows[0]!;
}

/** Why the scheduler skips the client right now ("" when it does not, or has not looked at it yet). */
export async function loadSkipReason(sql: Sql, clientId: string): Promise<string> {
  const { rows } = await sql.query<{ skip_reason: string }>("SELECT skip_reason FROM sync_clients WHERE client_id = $1", [clientId]);
  return rows[0]?.skip_reason ?? "";
}
