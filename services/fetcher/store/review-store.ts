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

/** What one review page writes, besides the task's end. */
export interface PageWrites {
  owner: ReviewOwner;
  /** New and changed reviews: upserted (a deleted review that reappears is revived). */
  writes: ReviewWrite[];
  /** Unchanged reviews: only by which job (and, to the day, when) they were last seen. */
  unchanged: string[];
  /** Stored rows a full pass no longer found at Google. */
  deletedIds: string[];
  /**
   * The pass over the location is complete (every page from the first, none dead-lettered):
   * every review newer than the newest one stored has been stored, so that becomes the next
   * incremental stop. Computed from the statement's snapshot plus this page's writes (a data-
   * modifying CTE does not see its siblings' rows).
   */
  advanceWatermark: boolean;
}

/** A review page's writes as common table expressions, to run in one statement with the task's end. */
export function pageWriteCtes(page: PageWrites, params: unknown[]): string[] {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const { owner, writes } = page;
  const location = p(owner.locationId);
  const job = p(owner.jobId);
  const times = p(writes.map((w) => w.updateTime));
  const deleted = p(page.deletedIds);
  // the reviews' bytes travel as ONE binary parameter (node-pg sends a Buffer as binary) sliced
  // in SQL, instead of a bytea[] that would be hex-encoded into text and parsed back
  const offsets: number[] = [];
  let offset = 0;
  for (const w of writes) {
    offsets.push(offset);
    offset += w.pb.length;
  }
  const blob = p(Buffer.concat(writes.map((w) => w.pb)));
  const ctes = [
    `upserted AS (
      INSERT INTO reviews (location_id, name, tenant_id, client_id, star_rating, update_time, review_pb, content_hash, last_seen_at, last_seen_job, deleted_at)
      SELECT ${location}::uuid, r.name, ${p(owner.tenantId)}::uuid, ${p(owner.clientId)}::uuid, r.star, r.ut,
        substring(${blob}::bytea FROM r.offs + 1 FOR r.len), r.hash, now(), ${job}::uuid, NULL
      FROM unnest(${p(writes.map((w) => w.name))}::text[], ${p(writes.map((w) => w.starRating))}::int[], ${times}::timestamptz[],
        ${p(offsets)}::int[], ${p(writes.map((w) => w.pb.length))}::int[], ${p(writes.map((w) => w.hash))}::text[]) AS r(name, star, ut, offs, len, hash)
      ON CONFLICT (location_id, name) DO UPDATE SET
        star_rating = EXCLUDED.star_rating, update_time = EXCLUDED.update_time, review_pb = EXCLUDED.review_pb,
        content_hash = EXCLUDED.content_hash, last_seen_at = now(), last_seen_job = EXCLUDED.last_seen_job, deleted_at = NULL
      RETURNING 1)`,
    // last_seen_at (indexed, for the retention purge) moves at most daily, so the every-pass write
    // of an unchanged review touches no index and stays a HOT update: re-reading a large client
    // does not bloat the table
    `touched AS (
      UPDATE reviews SET last_seen_job = ${job}::uuid,
        last_seen_at = CASE WHEN last_seen_at < now() - interval '1 day' THEN now() ELSE last_seen_at END
      WHERE location_id = ${location}::uuid AND name = ANY(${p(page.unchanged)}::text[]) RETURNING 1)`,
    `removed AS (
      UPDATE reviews SET deleted_at = now() WHERE id = ANY(${deleted}::bigint[]) AND deleted_at IS NULL RETURNING 1)`,
  ];
  if (page.advanceWatermark) {
    ctes.push(`watermark AS (
      UPDATE locations SET updated_at = now(), synced_update_time = GREATEST(
        (SELECT max(update_time) FROM reviews WHERE location_id = ${location}::uuid AND deleted_at IS NULL AND id <> ALL(${deleted}::bigint[])),
        (SELECT max(t) FROM unnest(${times}::timestamptz[]) AS t))
      WHERE id = ${location}::uuid RETURNING 1)`);
  }
  return ctes;
}

/**
 * Reviews not seen at Google for the retention period are purged (REVIEW_RETENTION_DAYS), and so
 * is the per-task bookkeeping of jobs that ended that long ago (dead tasks stay: replayable).
 */
export async function purgeOldReviews(sql: Sql, retentionDays: number): Promise<number> {
  const { count } = await sql.query("DELETE FROM reviews WHERE last_seen_at < now() - make_interval(days => $1)", [retentionDays]);
  await sql.query(
    `DELETE FROM fetch_tasks t USING fetch_jobs j
     WHERE t.job_id = j.id AND t.state = 'done' AND j.ended_at < now() - make_interval(days => $1)`,
    [retentionDays],
  );
  return count;
}
