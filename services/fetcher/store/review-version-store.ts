import type { Sql } from "./db.js";

/** Where one review's versions are read from: the stored copy of it that the caller may see. */
export interface VersionQuery {
  /** Google's review name, `accounts/{a}/locations/{l}/reviews/{r}`. */
  name: string;
  /** The caller's tenant; undefined for admin (every tenant). */
  tenantId: string | undefined;
  /** Only the copy stored for this client, when set. */
  clientId: string | undefined;
  /** Continue with the copy a previous page read (the review row's id), when set. */
  reviewId: string | undefined;
  /** Only versions after this one (0 = from the first). */
  afterVersion: number;
  /** At most this many versions. */
  limit: number;
}

export interface ReviewVersionRow {
  version: number;
  type: "created" | "updated" | "deleted";
  review_pb: Buffer;
  job_id: string | null;
  observed_at: Date;
  published_at: Date | null;
}

export interface ReviewVersionPage {
  /** The stored review the versions belong to (its row id, location and client). */
  review: { id: string; locationId: string; clientId: string | null };
  /** Versions in order, oldest first, at most `limit`. */
  versions: ReviewVersionRow[];
}

interface JoinedRow {
  review_id: string;
  location_id: string;
  client_id: string | null;
  version: number | null;
  type: ReviewVersionRow["type"] | null;
  review_pb: Buffer | null;
  job_id: string | null;
  observed_at: Date | null;
  published_at: Date | null;
}

/**
 * One page of a review's versions, oldest first (keyset on `version`), in one query; undefined
 * when the caller's tenant has no stored copy of the review (another tenant's looks the same).
 *
 * One Google review is one `reviews` row per owner (client, or raw-token scope) that reached its
 * location, so a tenant may hold several copies: the one asked for by `reviewId` (a page token)
 * comes first, then the copy seen most recently. The caller checks that a pinned copy was the one
 * found. The lookup goes through the location's Google name (indexed) and the reviews'
 * (location_id, name) key, never a scan of every review.
 */
export async function listReviewVersions(sql: Sql, q: VersionQuery): Promise<ReviewVersionPage | undefined> {
  const locationName = q.name.slice(0, q.name.lastIndexOf("/reviews/"));
  const params: unknown[] = [locationName, q.name];
  const where = ["l.google_name = $1"];
  if (q.tenantId !== undefined) {
    params.push(q.tenantId);
    where.push(`r.tenant_id = $${params.length}`);
  }
  if (q.clientId) {
    params.push(q.clientId);
    where.push(`r.client_id = $${params.length}`);
  }
  params.push(q.reviewId ?? null);
  const pin = `$${params.length}::bigint`;
  params.push(q.afterVersion, q.limit);
  const after = `$${params.length - 1}::int`;
  const limit = `$${params.length}::int`;
  const { rows } = await sql.query<JoinedRow>(
    `WITH target AS (
       SELECT r.id, r.location_id, r.client_id
       FROM locations l JOIN reviews r ON r.location_id = l.id AND r.name = $2
       WHERE ${where.join(" AND ")}
       ORDER BY (r.id = ${pin}) IS TRUE DESC, r.last_seen_at DESC, r.id DESC
       LIMIT 1)
     SELECT t.id AS review_id, t.location_id, t.client_id, v.version, v.type, v.review_pb, v.job_id, v.observed_at, v.published_at
     FROM target t LEFT JOIN LATERAL (
       SELECT rv.version, rv.type, rv.review_pb, rv.job_id, rv.observed_at, p.published_at
       FROM review_versions rv LEFT JOIN review_publications p ON p.review_id = rv.review_id AND p.version = rv.version
       WHERE rv.review_id = t.id AND rv.version > ${after}
       ORDER BY rv.version LIMIT ${limit}) v ON true
     ORDER BY v.version`,
    params,
  );
  const first = rows[0];
  if (!first) return undefined;
  return {
    review: { id: first.review_id, locationId: first.location_id, clientId: first.client_id },
    versions: rows
      .filter((row) => row.version !== null)
      .map((row) => ({
        version: row.version!,
        type: row.type!,
        review_pb: row.review_pb!,
        job_id: row.job_id,
        observed_at: row.observed_at!,
        published_at: row.published_at,
      })),
  };
}
