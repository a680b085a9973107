import type { Db, Sql } from "./db.js";

/**
 * The REVIEWS outbox: a version is committed with the page that observed it, together with its
 * row in `review_publications`, and published after; the publication's `published_at` records
 * that JetStream acknowledged it (a narrow row the mark rewrites, not the version's: migration
 * 0013). Whoever publishes a review's versions publishes all its unpublished ones, oldest first,
 * each after the one before was acknowledged: so a review's events reach the stream in version
 * order whichever instance (page or sweep) gets there first, and a second publisher's copies are
 * duplicates.
 */

/** An unpublished version with everything its event needs. */
export interface PendingVersion {
  review_id: string;
  version: number;
  type: "created" | "updated" | "deleted";
  review_pb: Buffer;
  name: string;
  location_id: string;
  scope_key: string;
  tenant_id: string | null;
  client_id: string | null;
  job_id: string | null;
  /** The review as stored before this version (deleted: as it was deleted); null for a created one. */
  prev_pb: Buffer | null;
}

/** Every unpublished version of these reviews, by review then version. */
export async function loadPendingVersions(sql: Sql, reviewIds: string[]): Promise<PendingVersion[]> {
  if (reviewIds.length === 0) return [];
  const { rows } = await sql.query<PendingVersion>(
    `SELECT p.review_id::text AS review_id, p.version, v.type, v.review_pb, r.name, r.location_id, l.scope_key, r.tenant_id, r.client_id, p.job_id,
       CASE v.type WHEN 'deleted' THEN v.review_pb WHEN 'updated' THEN pv.review_pb END AS prev_pb
     FROM review_publications p
       JOIN review_versions v ON v.review_id = p.review_id AND v.version = p.version
       JOIN reviews r ON r.id = p.review_id JOIN locations l ON l.id = r.location_id
       LEFT JOIN review_versions pv ON pv.review_id = p.review_id AND pv.version = p.version - 1
     WHERE p.review_id = ANY($1::bigint[]) AND p.published_at IS NULL
     ORDER BY p.review_id, p.version`,
    [reviewIds],
  );
  return rows;
}

/**
 * Reviews with a version still unpublished after `olderThanSeconds` (its publisher died or
 * failed), oldest first. The sweep asks every second, and the partial index it reads keeps an
 * entry for every version marked published until VACUUM removes it: read as a bitmap (as a
 * DISTINCT made it), each sweep visited the heap page of every one of them again (148,842
 * entries and 10,987 pages a sweep after a first fetch of 149k reviews: 2.3 s of Postgres in 65
 * sweeps). An ordered index scan marks the entries it finds dead in the index, and the next
 * sweep skips them without visiting the heap.
 */
export async function reviewsWithStalePending(sql: Sql, olderThanSeconds: number, limit: number): Promise<string[]> {
  const { rows } = await sql.query<{ review_id: string }>(
    `SELECT review_id::text AS review_id FROM review_publications
     WHERE published_at IS NULL AND observed_at < now() - make_interval(secs => $1) ORDER BY observed_at LIMIT $2`,
    [olderThanSeconds, limit],
  );
  return [...new Set(rows.map((r) => r.review_id))];
}

export async function markPublished(sql: Sql, versions: { reviewId: string; version: number }[]): Promise<void> {
  if (versions.length === 0) return;
  await sql.query(
    `UPDATE review_publications p SET published_at = now()
     FROM unnest($1::bigint[], $2::int[]) AS m(review_id, version)
     WHERE p.review_id = m.review_id AND p.version = m.version AND p.published_at IS NULL`,
    [versions.map((v) => v.reviewId), versions.map((v) => v.version)],
  );
}

/**
 * The stream already holds another event under this review's version `from` (the database was
 * reset or restored while the stream kept its history): the review's unpublished versions from
 * `from` on move past every number handed out so far, in the same order, so the next publish
 * cannot collide with the foreign one and still follows it. Returns the new first number.
 */
export async function renumberPending(db: Db, reviewId: string, from: number): Promise<number> {
  return db.tx(async (sql) => {
    const { rows } = await sql.query<{ version: number }>("SELECT version FROM reviews WHERE id = $1 FOR UPDATE", [reviewId]);
    const current = rows[0]?.version ?? from;
    const shift = current - from + 1;
    // two steps: shifting in place would collide with the primary key midway; the versions are
    // picked by their publications, so those move second
    await sql.query(
      `UPDATE review_versions v SET version = -(v.version + $3) FROM review_publications p
       WHERE v.review_id = $1 AND p.review_id = $1 AND p.version = v.version AND v.version >= $2 AND p.published_at IS NULL`,
      [reviewId, from, shift],
    );
    await sql.query(
      "UPDATE review_publications SET version = -(version + $3) WHERE review_id = $1 AND version >= $2 AND published_at IS NULL",
      [reviewId, from, shift],
    );
    await sql.query("UPDATE review_versions SET version = -version WHERE review_id = $1 AND version < 0", [reviewId]);
    await sql.query("UPDATE review_publications SET version = -version WHERE review_id = $1 AND version < 0", [reviewId]);
    await sql.query("UPDATE reviews SET version = version + $2 WHERE id = $1", [reviewId, shift]);
    return from + shift;
  });
}
