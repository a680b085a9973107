import type { Sql } from "./db.js";

/** A client as the scheduler knows it (from the TokenService). */
export interface SyncClient {
  clientId: string;
  tenantId: string | null;
  googleProject: string;
  connected: boolean;
  /** Why the scheduler skips it ('' when it does not). */
  skipReason: string;
}

/** Records what the TokenService says about every client; clients it no longer lists are dropped. */
export async function saveSyncClients(sql: Sql, clients: SyncClient[]): Promise<void> {
  await sql.query(
    `INSERT INTO sync_clients (client_id, tenant_id, google_project, connected, skip_reason, seen_at)
     SELECT c.id, c.tenant, c.project, c.connected, c.reason, now()
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::boolean[], $5::text[]) AS c(id, tenant, project, connected, reason)
     ON CONFLICT (client_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, google_project = EXCLUDED.google_project,
       connected = EXCLUDED.connected, skip_reason = EXCLUDED.skip_reason, seen_at = now()`,
    [
      clients.map((c) => c.clientId),
      clients.map((c) => c.tenantId),
      clients.map((c) => c.googleProject),
      clients.map((c) => c.connected),
      clients.map((c) => c.skipReason),
    ],
  );
  await sql.query("DELETE FROM sync_clients WHERE client_id <> ALL($1::uuid[])", [clients.map((c) => c.clientId)]);
}

export interface SyncClientRow {
  client_id: string;
  tenant_id: string | null;
  google_project: string;
  connected: boolean;
  skip_reason: string;
  next_full_at: Date | null;
  has_locations: boolean;
  full_running: boolean;
}

/** Every known client with what planning needs: whether a full pass of it runs, whether it has locations yet. */
export async function loadSyncClients(sql: Sql): Promise<SyncClientRow[]> {
  const { rows } = await sql.query<SyncClientRow>(
    `SELECT c.client_id, c.tenant_id, c.google_project, c.connected, c.skip_reason, c.next_full_at,
       EXISTS (SELECT 1 FROM locations l WHERE l.scope_key = c.client_id::text) AS has_locations,
       EXISTS (SELECT 1 FROM fetch_jobs j WHERE j.client_id = c.client_id AND j.status IN ('QUEUED','RUNNING')
               AND j.target_location IS NULL AND j.mode = 'full') AS full_running
     FROM sync_clients c ORDER BY c.client_id`,
  );
  return rows;
}

export async function setNextFull(sql: Sql, clientId: string, nextFullAt: Date, planned: boolean): Promise<void> {
  await sql.query(
    "UPDATE sync_clients SET next_full_at = $2, last_full_at = CASE WHEN $3 THEN now() ELSE last_full_at END WHERE client_id = $1",
    [clientId, nextFullAt, planned],
  );
}

/** A location whose incremental pass is due. */
export interface DueLocation {
  id: string;
  google_name: string;
  client_id: string;
  next_due_at: Date;
  interval_seconds: number | null;
}

/**
 * Due locations of the given clients, oldest due first: not leased by a running pass and not
 * already the target of an active job (a pass that is running or queued will refresh it anyway).
 */
export async function loadDueLocations(sql: Sql, clientIds: string[], limit: number): Promise<DueLocation[]> {
  const { rows } = await sql.query<DueLocation>(
    `SELECT l.id, l.google_name, l.client_id, l.next_due_at, l.interval_seconds FROM locations l
     WHERE l.client_id = ANY($1::uuid[]) AND l.scope_key = l.client_id::text AND l.next_due_at <= now()
       AND (l.pass_job IS NULL OR l.pass_until < now())
       AND NOT EXISTS (SELECT 1 FROM fetch_jobs j WHERE j.scope_key = l.scope_key AND j.target_location = l.google_name
                       AND j.status IN ('QUEUED','RUNNING'))
     ORDER BY l.next_due_at LIMIT $2`,
    [clientIds, limit],
  );
  return rows;
}

/** Active scheduled passes per Google project: the scheduler keeps only a few seconds of them queued. */
export async function activeScheduledByProject(sql: Sql): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ google_project: string; n: number }>(
    `SELECT google_project, count(*)::int AS n FROM fetch_jobs
     WHERE status IN ('QUEUED','RUNNING') AND trigger IN ('schedule','reconciliation') GROUP BY google_project`,
  );
  return new Map(rows.map((r) => [r.google_project, r.n]));
}

/** A location of a scheduled client, with its observed rate of changes. */
export interface ScheduledLocation {
  id: string;
  client_id: string;
  next_due_at: Date | null;
  interval_seconds: number | null;
  changes_per_day: number;
}

/**
 * Every location of these clients with its rate of changes at Google: reviews whose update time
 * falls in the last week (created or edited), per day.
 */
export async function loadLocationRates(sql: Sql, clientIds: string[]): Promise<ScheduledLocation[]> {
  const { rows } = await sql.query<ScheduledLocation>(
    `SELECT l.id, l.client_id, l.next_due_at, l.interval_seconds,
       (SELECT count(*) FROM reviews r WHERE r.location_id = l.id AND r.update_time > now() - interval '7 days')::float8 / 7 AS changes_per_day
     FROM locations l WHERE l.client_id = ANY($1::uuid[]) AND l.scope_key = l.client_id::text`,
    [clientIds],
  );
  return rows;
}

/** New intervals and due times; a location never scheduled gets its first due time now. */
export async function saveSchedule(
  sql: Sql,
  updates: { id: string; intervalSeconds: number; changesPerDay: number; nextDueAt: Date }[],
): Promise<void> {
  if (updates.length === 0) return;
  await sql.query(
    `UPDATE locations l SET interval_seconds = u.secs, changes_per_day = u.rate, next_due_at = u.due
     FROM unnest($1::uuid[], $2::int[], $3::float8[], $4::timestamptz[]) AS u(id, secs, rate, due) WHERE l.id = u.id`,
    [updates.map((u) => u.id), updates.map((u) => u.intervalSeconds), updates.map((u) => u.changesPerDay), updates.map((u) => u.nextDueAt)],
  );
}

/** Next due times of the locations a round just started passes for. */
export async function saveDueTimes(sql: Sql, planned: { id: string; nextDueAt: Date }[]): Promise<void> {
  if (planned.length === 0) return;
  await sql.query("UPDATE locations l SET next_due_at = u.due FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, due) WHERE l.id = u.id", [
    planned.map((p) => p.id),
    planned.map((p) => p.nextDueAt),
  ]);
}

/** Stops scheduling the locations of clients that are off (disabled, disconnected, gone). */
export async function unscheduleOtherClients(sql: Sql, scheduledClientIds: string[]): Promise<void> {
  await sql.query(
    "UPDATE locations SET next_due_at = NULL WHERE next_due_at IS NOT NULL AND (client_id IS NULL OR client_id <> ALL($1::uuid[]))",
    [scheduledClientIds],
  );
}

/** For metrics: overdue locations, and the age of each scheduled client's stalest location. */
export async function freshnessSummary(sql: Sql): Promise<{ overdue: number; stalest: { client_id: string; age_seconds: number }[] }> {
  const { rows } = await sql.query<{ client_id: string; age_seconds: number; overdue: number }>(
    `SELECT l.client_id, max(extract(epoch FROM now() - COALESCE(l.last_complete_pass_at, l.created_at)))::float8 AS age_seconds,
       count(*) FILTER (WHERE l.next_due_at < now() - make_interval(secs => COALESCE(l.interval_seconds, 0)))::int AS overdue
     FROM locations l WHERE l.next_due_at IS NOT NULL GROUP BY l.client_id`,
  );
  return {
    overdue: rows.reduce((n, r) => n + r.overdue, 0),
    stalest: rows.map((r) => ({ client_id: r.client_id, age_seconds: r.age_seconds })),
  };
}

/**
 * Inside the transaction that starts a scheduled pass: locks the client's (or the location's)
 * row and says whether no active job covers it already. Two planners racing (one that lost its
 * lock mid-round) serialise here, and the second finds the first one's job.
 */
export async function claimPlan(sql: Sql, clientId: string, targetLocation: string | null): Promise<boolean> {
  if (targetLocation === null) {
    await sql.query("SELECT 1 FROM sync_clients WHERE client_id = $1 FOR UPDATE", [clientId]);
    const { rows } = await sql.query(
      `SELECT 1 FROM fetch_jobs WHERE client_id = $1 AND target_location IS NULL AND mode = 'full' AND status IN ('QUEUED','RUNNING') LIMIT 1`,
      [clientId],
    );
    return rows.length === 0;
  }
  await sql.query("SELECT 1 FROM locations WHERE scope_key = $1 AND google_name = $2 FOR UPDATE", [clientId, targetLocation]);
  const { rows } = await sql.query(
    "SELECT 1 FROM fetch_jobs WHERE scope_key = $1 AND target_location = $2 AND status IN ('QUEUED','RUNNING') LIMIT 1",
    [clientId, targetLocation],
  );
  return rows.length === 0;
}
