import { Conditions, type Page, type Sql } from "./db.js";

/** A stored review as ListReviews returns it. */
export interface ReviewListRow {
  id: string;
  review_pb: Buffer;
  location_id: string;
  client_id: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  cursor_time: string;
}

export interface ReviewListFilter extends Page {
  /** The caller's tenant; undefined for admin (every tenant). */
  tenantId?: string;
  clientId?: string;
  /** One location, by one of its names: reviewflow's id, Google's full name, or Google's bare location id. */
  location?: { id: string } | { googleName: string } | { googleId: string };
  updatedAfter?: Date;
  minRating?: number;
}

/** Stored, not deleted reviews, most recently updated first, keyset-paged on (update_time, id). */
export async function listReviews(sql: Sql, filter: ReviewListFilter): Promise<ReviewListRow[]> {
  const c = new Conditions("r.deleted_at IS NULL").equal("r.tenant_id", filter.tenantId).equal("r.client_id", filter.clientId);
  const location = filter.location;
  if (location && "id" in location) c.equal("r.location_id", location.id);
  else if (location && "googleName" in location) c.equal("l.google_name", location.googleName);
  else if (location) c.equal("substring(l.google_name from position('/locations/' in l.google_name) + 11)", location.googleId);
  if (filter.updatedAfter) c.add((p) => `r.update_time > ${p}`, filter.updatedAfter);
  if ((filter.minRating ?? 0) > 0) c.add((p) => `r.star_rating >= ${p}`, filter.minRating);
  c.before("r.update_time", "r.id", "bigint", filter.after);
  const { rows } = await sql.query<ReviewListRow>(
    `SELECT r.id, r.review_pb, r.location_id, r.client_id, r.first_seen_at, r.last_seen_at, to_json(r.update_time) #>> '{}' AS cursor_time
     FROM reviews r JOIN locations l ON l.id = r.location_id
     ${c.where}
     ORDER BY r.update_time DESC, r.id DESC LIMIT ${c.param(filter.limit)}`,
    c.params,
  );
  return rows;
}
