import type { Sql } from "./db.js";

export interface LocationRow {
  id: string;
  google_name: string;
  synced_update_time: Date | null;
}

export interface LocationOwner {
  scopeKey: string;
  tenantId: string | null;
  clientId: string | null;
}

/**
 * Finds or creates the internal rows of Google locations for one owner (client, or raw-token
 * scope). The internal id is stable: it names the REVIEWS subject and keys the reviews.
 */
export async function upsertLocations(
  sql: Sql,
  owner: LocationOwner,
  locations: { name: string; title?: string }[],
): Promise<LocationRow[]> {
  if (locations.length === 0) return [];
  const { rows } = await sql.query<LocationRow>(
    `INSERT INTO locations (id, scope_key, google_name, tenant_id, client_id, title)
     SELECT gen_random_uuid(), $1, l.name, $2, $3, l.title FROM unnest($4::text[], $5::text[]) AS l(name, title)
     ON CONFLICT (scope_key, google_name) DO UPDATE SET
       title = CASE WHEN EXCLUDED.title = '' THEN locations.title ELSE EXCLUDED.title END, updated_at = now()
     RETURNING id, google_name, synced_update_time`,
    [owner.scopeKey, owner.tenantId, owner.clientId, locations.map((l) => l.name), locations.map((l) => (l.title ?? "").slice(0, 300))],
  );
  return rows;
}

/** An owner's (scope's) row of one Google location, if it has one. */
export async function findLocation(sql: Sql, scopeKey: string, googleName: string): Promise<LocationRow | undefined> {
  const { rows } = await sql.query<LocationRow>(
    "SELECT id, google_name, synced_update_time FROM locations WHERE scope_key = $1 AND google_name = $2",
    [scopeKey, googleName],
  );
  return rows[0];
}
