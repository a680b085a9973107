import { Conditions, type Sql } from "./db.js";

/** One location with how fresh it is, as ListLocations reports it. */
export interface LocationFreshnessRow {
  id: string;
  client_id: string;
  google_name: string;
  title: string;
  last_pass_at: Date | null;
  last_complete_pass_at: Date | null;
  /** The newest review update time stored (the watermark, or a stored review's, whichever is later). */
  newest_update_time: Date | null;
  next_due_at: Date | null;
  changes_per_day: number;
  /** The location's own (adaptive) interval, else the policy's. */
  interval_seconds: number;
  /** The next pass is more than one interval late. */
  overdue: boolean;
  /** Not deleted reviews; bigint, so a string. */
  review_count: string;
}

export interface LocationFreshnessFilter {
  clientId: string;
  /** The caller's tenant; undefined for admin. */
  tenantId?: string;
  /** The policy's incremental interval, for locations that have none of their own yet. */
  defaultIntervalSeconds: number;
  /** Only locations after this one, by (google_name, id). */
  after?: { googleName: string; id: string };
  limit: number;
}

/** A client's locations by Google name, keyset-paged on (google_name, id). */
export async function listLocationFreshness(sql: Sql, filter: LocationFreshnessFilter): Promise<LocationFreshnessRow[]> {
  const c = new Conditions().equal("l.client_id", filter.clientId).equal("l.tenant_id", filter.tenantId);
  const interval = `COALESCE(l.interval_seconds, ${c.param(filter.defaultIntervalSeconds)}::int)`;
  if (filter.after) c.add((p) => `(l.google_name, l.id) > (${p}, ${c.param(filter.after!.id)}::uuid)`, filter.after.googleName);
  const { rows } = await sql.query<LocationFreshnessRow>(
    `SELECT l.id, l.client_id, l.google_name, l.title, l.last_pass_at, l.last_complete_pass_at,
       GREATEST(l.synced_update_time, r.newest_update_time) AS newest_update_time,
       l.next_due_at, l.changes_per_day, ${interval} AS interval_seconds,
       COALESCE(l.next_due_at < now() - make_interval(secs => ${interval}), false) AS overdue,
       r.review_count
     FROM locations l
     LEFT JOIN LATERAL (
       SELECT max(update_time) AS newest_update_time, count(*) FILTER (WHERE deleted_at IS NULL) AS review_count
       FROM reviews WHERE location_id = l.id) r ON true
     ${c.where}
     ORDER BY l.google_name, l.id LIMIT ${c.param(filter.limit)}`,
    c.params,
  );
  return rows;
}
