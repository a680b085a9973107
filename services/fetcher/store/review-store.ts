import type { Sql } from "./db.js";
import type { TaskFinish } from "./job-store.js";
import { finishCtes } from "./task-finish.js";

/** What a page's comparison needs of a stored review. */
export interface StoredReviewState {
  id: string;
  name: string;
  content_hash: string;
  /**
   * The stored bytes; null from loadStoredReviews when they hash as the fetched review does (an
   * unchanged review needs none, and a page of them is most of what a re-fetch reads).
   */
  review_pb: Buffer | null;
  update_time: Date;
  deleted_at: Date | null;
  version: number;
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

const STORED_COLUMNS = "id, name, content_hash, review_pb, update_time, deleted_at, version";

/**
 * The page's stored reviews by name ($1 the location, $2 the names, $3 their fetched hashes): a
 * live row that still hashes the same comes without its bytes.
 */
const STORED_BY_NAME = `r.id, r.name, r.content_hash,
       CASE WHEN r.deleted_at IS NULL AND r.content_hash = f.hash THEN NULL ELSE r.review_pb END AS review_pb,
       r.update_time, r.deleted_at, r.version
     FROM unnest($2::text[], $3::text[]) AS f(name, hash) JOIN reviews r ON r.location_id = $1 AND r.name = f.name`;

/** What a review page reads before it compares: one statement, whatever the page is. */
export interface PageReadInput {
  locationId: string;
  /** Reviews to load by name: the fetched ones (on a list's page, the names its pass saw there: no candidate is among them). */
  names: string[];
  /**
   * The fetched reviews' content hashes, by name: a live row that still hashes the same comes
   * without its bytes (they would only be hex-encoded by Postgres and parsed back here to go
   * unused); a name without a hash gets them.
   */
  hashes: Map<string, string>;
  /**
   * The last page of a pass over the location's list: whether the pass is complete (no page of
   * it dead-lettered) and, on a full pass that is, what it proposes as deleted.
   */
  lastPage?: { jobId: string; taskPrefix: string; jobStartedAt: Date; proposeDeletions: boolean };
}

export interface PageRead {
  stored: Map<string, StoredReviewState>;
  /** The last page of a pass whose every page, from the first, is done (none dead-lettered). */
  completePass: boolean;
  /**
   * What a complete full pass proposes as deleted: live reviews of the location that it did not
   * see on any page and whose current version is older than the pass (a review stored or changed
   * since the pass began was seen by someone after it began). Each is confirmed with reviews.get
   * before it is deleted. The pass's start is its lease's; without the lease (lost), the job's start.
   */
  candidates: StoredReviewState[];
}

/**
 * A page's stored reviews, whether its pass is complete and its deletion candidates, in one
 * round trip: they were three statements on a pass's last page, and a statement costs far more
 * than its rows here (on these machines a loopback write to Postgres, with the backend's wake-up,
 * was the fetcher's largest single cost).
 */
export async function readPage(sql: Sql, input: PageReadInput): Promise<PageRead> {
  const last = input.lastPage;
  if (!last) return { stored: await readStored(sql, input), completePass: false, candidates: [] };
  const { rows } = await sql.query<StoredReviewState & { kind: "s" | "c" | "d" }>(
    `WITH dead AS (
       SELECT $4::text IS NOT NULL AND EXISTS (
         SELECT 1 FROM fetch_tasks WHERE job_id = $5::uuid AND state = 'dead' AND starts_with(id, $4::text)) AS dead)
     SELECT 's' AS kind, ${STORED_BY_NAME}
     UNION ALL
     SELECT 'c', ${STORED_COLUMNS} FROM reviews
     WHERE $6::boolean AND NOT (SELECT dead FROM dead)
       AND location_id = $1 AND deleted_at IS NULL AND last_seen_job IS DISTINCT FROM $5::uuid AND name <> ALL($2::text[])
       AND changed_at < COALESCE((SELECT pass_started_at FROM locations WHERE id = $1 AND pass_job = $5::uuid), $7::timestamptz)
     UNION ALL
     SELECT 'd', NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE (SELECT dead FROM dead)`,
    [
      input.locationId,
      input.names,
      input.names.map((n) => input.hashes.get(n) ?? null),
      last?.taskPrefix ?? null,
      last?.jobId ?? null,
      last?.proposeDeletions ?? false,
      last?.jobStartedAt ?? null,
    ],
  );
  const read: PageRead = { stored: new Map(), completePass: last !== undefined, candidates: [] };
  for (const { kind, ...row } of rows) {
    if (kind === "s") read.stored.set(row.name, row);
    else if (kind === "c") read.candidates.push(row);
    else read.completePass = false;
  }
  return read;
}

/**
 * The stored reviews of a page that is not its pass's last (most pages): a statement of its own
 * text, not readPage's with its other branches switched off by parameters. Postgres kept
 * re-planning that one (5,614 plans in 9,622 executions over a first fetch and a re-fetch, 1.5 s
 * of planning beside 5.4 s of execution): a custom plan drops the branches a generic plan has to
 * keep, so it always looked cheaper. This text has one plan.
 */
async function readStored(sql: Sql, input: PageReadInput): Promise<Map<string, StoredReviewState>> {
  const { rows } = await sql.query<StoredReviewState>(`SELECT ${STORED_BY_NAME}`, [
    input.locationId,
    input.names,
    input.names.map((n) => input.hashes.get(n) ?? null),
  ]);
  return new Map(rows.map((row) => [row.name, row]));
}

/** A version a page's statement recorded (its bytes are the page's, by name). */
export interface RecordedVersion {
  reviewId: string;
  name: string;
  version: number;
  type: "created" | "updated" | "deleted";
}

/** What one review page writes, besides the task's end. */
export interface PageWrites {
  owner: ReviewOwner;
  /** New and changed reviews: each becomes a new version (a deleted review that reappears is re-created). */
  writes: ReviewWrite[];
  /** Unchanged reviews: only by which job (and, to the day, when) they were last seen. */
  unchanged: string[];
  /** Live rows a full pass did not see and reviews.get confirmed gone, at the version that was confirmed. */
  deletions: { id: string; version: number }[];
  /** Review ids (already stored) this page touches: their earlier unpublished versions go out first. */
  storedIds: string[];
  /** Renews the pass's lease on the location for this many seconds (not on the last page). */
  renewLeaseSeconds?: number;
  /** The last page of the pass: the lease is released, and the watermark moves if the pass is complete. */
  lastPage: boolean;
  /**
   * The pass over the location is complete (every page from the first, none dead-lettered):
   * every review updated before the pass began has been stored, so the newest stored update
   * time, but not past the pass's start, becomes the next incremental stop. Computed from the
   * statement's snapshot plus this page's writes (a data-modifying CTE does not see its
   * siblings' rows).
   */
  advanceWatermark: boolean;
}

/**
 * A review page's writes as common table expressions, to run in one statement with the task's
 * end. A write becomes a version only if the stored row still differs when the row is locked
 * (another pass may have stored the same content since the page was compared) and is not newer
 * than what is fetched (an older read never overwrites a newer one); a deletion only if the row
 * is still at the version that was confirmed. The statement returns the versions it recorded
 * (`versions`), whether earlier versions of these reviews await publishing (`stale`) and whether
 * other jobs wait for the location (`waiters`).
 */
function pageWriteCtes(page: PageWrites, params: unknown[]): { ctes: string[]; select: string } {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const { owner, writes } = page;
  const location = p(owner.locationId);
  const job = p(owner.jobId);
  // the page's update times, one parameter for the upsert and the watermark, added only when the
  // text reads it (a parameter no text reads has no type, and Postgres refuses the statement)
  let timesParam: string | undefined;
  const times = () => (timesParam ??= p(writes.map((w) => w.updateTime)));
  // the reviews' bytes travel as ONE binary parameter (node-pg sends a Buffer as binary) sliced
  // in SQL, instead of a bytea[] that would be hex-encoded into text and parsed back
  const offsets: number[] = [];
  let offset = 0;
  for (const w of writes) {
    offsets.push(offset);
    offset += w.pb.length;
  }
  const ctes = [
    // a page without writes (an unchanged re-fetch: the steady state of a synced client) inserts
    // nothing into reviews or review_versions, and runs neither INSERT: see `removed` below
    writes.length === 0
      ? `upserted AS (SELECT NULL::bigint AS id, NULL::text AS name, NULL::int AS version, NULL::bytea AS review_pb,
          NULL::timestamptz AS update_time, NULL::boolean AS inserted WHERE false)`
      : `upserted AS (
      INSERT INTO reviews (location_id, name, tenant_id, client_id, star_rating, update_time, review_pb, content_hash, last_seen_at, last_seen_job, deleted_at, version, changed_at)
      SELECT ${location}::uuid, r.name, ${p(owner.tenantId)}::uuid, ${p(owner.clientId)}::uuid, r.star, r.ut,
        substring(${p(Buffer.concat(writes.map((w) => w.pb)))}::bytea FROM r.offs + 1 FOR r.len), r.hash, now(), ${job}::uuid, NULL, 1, now()
      FROM unnest(${p(writes.map((w) => w.name))}::text[], ${p(writes.map((w) => w.starRating))}::int[], ${times()}::timestamptz[],
        ${p(offsets)}::int[], ${p(writes.map((w) => w.pb.length))}::int[], ${p(writes.map((w) => w.hash))}::text[]) AS r(name, star, ut, offs, len, hash)
      ON CONFLICT (location_id, name) DO UPDATE SET
        star_rating = EXCLUDED.star_rating, update_time = EXCLUDED.update_time, review_pb = EXCLUDED.review_pb,
        content_hash = EXCLUDED.content_hash, last_seen_at = now(), last_seen_job = EXCLUDED.last_seen_job, deleted_at = NULL,
        version = reviews.version + 1, changed_at = now()
      WHERE reviews.deleted_at IS NOT NULL
        OR (reviews.content_hash <> EXCLUDED.content_hash AND reviews.update_time <= EXCLUDED.update_time)
      RETURNING id, name, version, review_pb, update_time, (xmax = 0) AS inserted)`,
    // the type comes from the version before (a review re-created after a deletion, or after
    // retention purged it to a tombstone, is created); a row just inserted has none to look up.
    //
    // The statement runs prepared (db.ts): after five executions Postgres may keep one generic
    // plan, made from the tables as they were. Made while they were small (seen with
    // plan_cache_mode=force_generic_plan on a new database), it scanned all of review_versions
    // for the versions before and all of reviews for the deletions on every page, even a first
    // fetch's (nothing to look up) with no deletions. Now such pages run neither scan (the CASE,
    // and no deletion UPDATE at all without deletions); pages with updates or deletions still do
    // until the plan is made again (an ANALYZE: autovacuum).
    `changed AS (
      SELECT u.id, u.name, u.version, u.review_pb, u.update_time,
        CASE WHEN u.inserted THEN 'created'
          WHEN EXISTS (SELECT 1 FROM review_versions pv WHERE pv.review_id = u.id AND pv.version = u.version - 1
            AND (pv.type = 'deleted' OR octet_length(pv.review_pb) = 0)) THEN 'created'
          ELSE 'updated' END AS type
      FROM upserted u)`,
    // a page without deletions (most) or without unchanged reviews (every first fetch) gets an
    // empty CTE instead of the UPDATE: a data-modifying CTE opens and locks the table and all six
    // of its indexes on every execution, whether or not it writes a row
    page.deletions.length === 0
      ? `removed AS (SELECT NULL::bigint AS id, NULL::text AS name, NULL::int AS version, NULL::bytea AS review_pb,
          NULL::timestamptz AS update_time WHERE false)`
      : `removed AS (
      UPDATE reviews r SET deleted_at = now(), version = r.version + 1, changed_at = now()
      FROM unnest(${p(page.deletions.map((d) => d.id))}::bigint[], ${p(page.deletions.map((d) => d.version))}::int[]) AS d(id, version)
      WHERE r.id = d.id AND r.version = d.version AND r.deleted_at IS NULL
      RETURNING r.id, r.name, r.version, r.review_pb, r.update_time)`,
    ...(writes.length === 0 && page.deletions.length === 0
      ? []
      : [
          `versioned AS (
      INSERT INTO review_versions (review_id, version, type, review_pb, update_time, job_id)
      SELECT id, version, type, review_pb, update_time, ${job}::uuid FROM changed
      UNION ALL SELECT id, version, 'deleted', review_pb, update_time, ${job}::uuid FROM removed
      RETURNING 1)`,
          // each version's row in the outbox, unpublished (migration 0013)
          `outboxed AS (
      INSERT INTO review_publications (review_id, version, job_id)
      SELECT id, version, ${job}::uuid FROM changed UNION ALL SELECT id, version, ${job}::uuid FROM removed
      RETURNING 1)`,
        ]),
    // last_seen_at (indexed, for the retention purge) moves at most daily, so the every-pass write
    // of an unchanged review touches no index and stays a HOT update: re-reading a large client
    // does not bloat the table (HOT needs room on the row's page: the table's fillfactor, migration 0012)
    ...(page.unchanged.length === 0
      ? []
      : [
          `touched AS (
      UPDATE reviews SET last_seen_job = ${job}::uuid,
        last_seen_at = CASE WHEN last_seen_at < now() - interval '1 day' THEN now() ELSE last_seen_at END
      WHERE location_id = ${location}::uuid AND name = ANY(${p(page.unchanged)}::text[]) RETURNING 1)`,
        ]),
  ];
  if (page.lastPage) {
    const advance = p(page.advanceWatermark);
    ctes.push(`pass AS (
      UPDATE locations SET updated_at = now(),
        synced_update_time = CASE WHEN ${advance}::boolean THEN LEAST(GREATEST(
          (SELECT max(update_time) FROM reviews WHERE location_id = ${location}::uuid AND deleted_at IS NULL
             AND id <> ALL(SELECT id FROM removed)),
          (SELECT max(t) FROM unnest(${times()}::timestamptz[]) AS t)), COALESCE(CASE WHEN pass_job = ${job}::uuid THEN pass_started_at END, 'infinity'))
          ELSE synced_update_time END,
        last_pass_at = now(),
        last_complete_pass_at = CASE WHEN ${advance}::boolean THEN now() ELSE last_complete_pass_at END,
        -- a complete pass, whatever started it, makes the next scheduled one wait its interval
        next_due_at = CASE WHEN ${advance}::boolean AND next_due_at IS NOT NULL AND interval_seconds IS NOT NULL
          THEN GREATEST(next_due_at, now() + make_interval(secs => interval_seconds)) ELSE next_due_at END,
        pass_job = CASE WHEN pass_job = ${job}::uuid THEN NULL ELSE pass_job END,
        pass_until = CASE WHEN pass_job = ${job}::uuid THEN NULL ELSE pass_until END
      WHERE id = ${location}::uuid RETURNING 1)`);
  } else if (page.renewLeaseSeconds) {
    // IS NOT DISTINCT FROM, which no index serves, leaves the primary key the only way in (a
    // generic plan went by IDX_locations_pass_job: through every location of the job)
    ctes.push(`pass AS (
      UPDATE locations SET pass_until = now() + make_interval(secs => ${p(page.renewLeaseSeconds)})
      WHERE id = ${location}::uuid AND pass_job IS NOT DISTINCT FROM ${job}::uuid RETURNING 1)`);
  }
  const storedIds = p(page.storedIds);
  const select = `(SELECT COALESCE(json_agg(json_build_array(v.id::text, v.name, v.version, v.type)), '[]')
      FROM (SELECT id, name, version, type FROM changed
            UNION ALL SELECT id, name, version, 'deleted' FROM removed) v) AS versions,
    -- a page of new reviews (a first fetch) has none to look for; a generic plan went through
    -- every unpublished version by its partial index on job_id all the same
    cardinality(${storedIds}::bigint[]) > 0 AND EXISTS (SELECT 1 FROM review_publications
      WHERE review_id = ANY(${storedIds}::bigint[]) AND published_at IS NULL) AS stale,
    ${page.lastPage ? `EXISTS (SELECT 1 FROM location_waits WHERE location_id = ${location}::uuid)` : "false"} AS waiters`;
  return { ctes, select };
}

/** What a review page's statement tells. */
export interface PageOutcome {
  /** False when the task had already finished (a redelivery): nothing was counted again. */
  counted: boolean;
  pendingChildren: number;
  /** The versions this statement recorded, to publish. */
  versions: RecordedVersion[];
  /** Earlier versions of these reviews still await publishing (an attempt died after its commit). */
  stale: boolean;
  /** Other jobs' passes wait for the location (the last page released it). */
  waiters: boolean;
}

/**
 * A review page's versions, the lease and the task's end: one statement, one round trip,
 * atomic. The job's created / updated / deleted counters are what the statement really
 * recorded, not what the comparison proposed.
 */
export async function commitReviewPage(sql: Sql, page: PageWrites, finish: TaskFinish): Promise<PageOutcome> {
  const params: unknown[] = [];
  const { ctes, select } = pageWriteCtes(page, params);
  ctes.push(
    finishCtes(
      {
        ...finish,
        counterSql: {
          created: "(SELECT count(*) FROM changed WHERE type = 'created')",
          updated: "(SELECT count(*) FROM changed WHERE type = 'updated')",
          deleted: "(SELECT count(*) FROM removed)",
        },
      },
      params,
    ),
  );
  const { rows } = await sql.query<{ counted: boolean; new_kids: string; versions: unknown; stale: boolean; waiters: boolean }>(
    `WITH ${ctes.join(",\n")} SELECT d.counted > 0 AS counted, d.new_kids, ${select} FROM d`,
    params,
  );
  const row = rows[0]!;
  return {
    counted: row.counted,
    pendingChildren: Number(row.new_kids),
    versions: recordedVersions(row.versions),
    stale: row.stale,
    waiters: row.waiters,
  };
}

/** Decodes the `versions` column of a page's statement. */
function recordedVersions(json: unknown): RecordedVersion[] {
  return (json as [string, string, number, RecordedVersion["type"]][]).map(([reviewId, name, version, type]) => ({
    reviewId,
    name,
    version,
    type,
  }));
}

/**
 * Reviews not seen at Google for the retention period are purged (REVIEW_RETENTION_DAYS), and so
 * is the per-task bookkeeping of jobs that ended that long ago (dead tasks stay: replayable).
 *
 * A purged review keeps a tombstone: its name and version number, nothing of its content. Were
 * the row deleted, a review that comes back later would start again at version 1, and every
 * subscriber holding a higher version would ignore it (and its next changes) for good.
 */
export async function purgeOldReviews(sql: Sql, retentionDays: number): Promise<number> {
  const { count } = await sql.query(
    `UPDATE reviews SET review_pb = ''::bytea, content_hash = '', deleted_at = COALESCE(deleted_at, now())
     WHERE last_seen_at < now() - make_interval(days => $1) AND content_hash <> ''`,
    [retentionDays],
  );
  const published = `NOT EXISTS (SELECT 1 FROM review_publications p
       WHERE p.review_id = v.review_id AND p.version = v.version AND p.published_at IS NULL)`;
  await sql.query(
    `UPDATE review_versions v SET review_pb = ''::bytea FROM reviews r
     WHERE v.review_id = r.id AND r.content_hash = '' AND octet_length(v.review_pb) > 0 AND ${published}`,
  );
  // a review's history keeps the same window; its current version stays while the review does
  await sql.query(
    `WITH gone AS (
       DELETE FROM review_versions v USING reviews r
       WHERE v.review_id = r.id AND v.version < r.version AND v.observed_at < now() - make_interval(days => $1) AND ${published}
       RETURNING v.review_id, v.version)
     DELETE FROM review_publications p USING gone g WHERE p.review_id = g.review_id AND p.version = g.version`,
    [retentionDays],
  );
  await sql.query(
    `DELETE FROM fetch_tasks t USING fetch_jobs j
     WHERE t.job_id = j.id AND t.state = 'done' AND j.ended_at < now() - make_interval(days => $1)`,
    [retentionDays],
  );
  return count;
}
