import type { Sql } from "./db.js";

/** What a page's comparison needs of a stored review. */
export interface StoredReviewState {
  id: string;
  name: string;
  content_hash: string;
  review_pb: Buffer;
  update_time: Date;
  deleted_at: Date | null;
}

/** One review to write: its identity and content as fetched. */
export interface ReviewWrite {
  name: string;
  starRating: number;
  /** RFC 3339. */
  updateTime: string;
  pb: Uint8Array;
  hash: string;
}

export interface ReviewOwner {
  locationId: string;
  tenantId: string | null;
  clientId: string | null;
  jobId: string;
}

export async function loadStoredReviews(sql: Sql, locationId: string, names: string[]): Promise<Map<string, StoredReviewState>> {
  if (names.length === 0) return new Map();
  const { rows } = await sql.query<StoredReviewState>(
    "SELECT id, name, content_hash, review_pb, update_time, deleted_at FROM reviews WHERE location_id = $1 AND name = ANY($2::text[])",
    [locationId, names],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

/** Stored, not deleted reviews of a location that this job's pass did not see (full mode: deleted at Google). */
export async function loadUnseenReviews(sql: Sql, locationId: string, jobId: string, seenOnThisPage: string[]): Promise<StoredReviewState[]> {
  const { rows } = await sql.query<StoredReviewState>(
    `SELECT id, name, content_hash, review_pb, update_time, deleted_at FROM reviews
     WHERE location_id = $1 AND deleted_at IS NULL AND last_seen_job IS DISTINCT FROM $2 AND name <> ALL($3::text[])`,
    [locationId, jobId, seenOnThisPage],
  );
  return rows;
}

/** New and changed reviews: one multi-row upsert (a deleted review that reappears is revived). */
export async function upsertReviews(sql: Sql, owner: ReviewOwner, writes: ReviewWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await sql.query(
    `INSERT INTO reviews (location_id, name, tenant_id, client_id, star_rating, update_time, review_pb, content_hash, last_seen_at, last_seen_job, deleted_at)
     SELECT $1, r.name, $2, $3, r.star, r.ut, r.pb, r.hash, now(), $4, NULL
     FROM unnest($5::text[], $6::int[], $7::timestamptz[], $8::bytea[], $9::text[]) AS r(name, star, ut, pb, hash)
     ON CONFLICT (location_id, name) DO UPDATE SET
       star_rating = EXCLUDED.star_rating, update_time = EXCLUDED.update_time, review_pb = EXCLUDED.review_pb,
       content_hash = EXCLUDED.content_hash, last_seen_at = now(), last_seen_job = EXCLUDED.last_seen_job, deleted_at = NULL`,
    [
      owner.locationId,
      owner.tenantId,
      owner.clientId,
      owner.jobId,
      writes.map((w) => w.name),
      writes.map((w) => w.starRating),
      writes.map((w) => w.updateTime),
      writes.map((w) => Buffer.from(w.pb)),
      writes.map((w) => w.hash),
    ],
  );
}

/** Unchanged reviews: only when and by which job they were last seen. */
export async function touchReviews(sql: Sql, owner: ReviewOwner, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await sql.query(
    "UPDATE reviews SET last_seen_at = now(), last_seen_job = $2 WHERE location_id = $1 AND name = ANY($3::text[])",
    [owner.locationId, owner.jobId, names],
  );
}

export async function markReviewsDeleted(sql: Sql, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql.query("UPDATE reviews SET deleted_at = now() WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL", [ids]);
}

/**
 * After a complete pass over a location (every page from the first, none dead-lettered), every
 * review newer than the newest stored one has been stored: that is the next incremental stop.
 */
export async function advanceWatermark(sql: Sql, locationId: string): Promise<void> {
  await sql.query(
    `UPDATE locations SET synced_update_time = (SELECT max(update_time) FROM reviews WHERE location_id = $1 AND deleted_at IS NULL), updated_at = now()
     WHERE id = $1`,
    [locationId],
  );
}

/** Reviews not seen at Google for the retention period are purged (REVIEW_RETENTION_DAYS). */
export async function purgeOldReviews(sql: Sql, retentionDays: number): Promise<number> {
  const { count } = await sql.query("DELETE FROM reviews WHERE last_seen_at < now() - make_interval(days => $1)", [retentionDays]);
  return count;
}
