import type { Db, Sql } from "./db.js";

/**
 * One pass per location at a time: a lease on the location row (pass_job, pass_until), taken by
 * the first review page of a job's pass, renewed by each page's commit and released by the last
 * one. A job whose first page finds the location leased by another live job parks that page in
 * location_waits (the message is acked: no worker slot and no JetStream delivery is spent while
 * it waits) and the pass that ends hands the lease to the oldest waiter, whose page is then
 * published again. A lease whose holder ended, or that was not renewed in time, is free: the
 * maintenance sweep hands such locations on, so a crash delays a waiter but never strands it.
 */

/** What the location row says about its pass, and whether this job may run one now. */
export interface PassClaim {
  acquired: boolean;
  /**
   * Acquired, and the location has no stored review at all (not even a tombstone): the pass's
   * pages have nothing to compare with (see FetchReviewsTask.nothing_stored).
   */
  nothingStored: boolean;
}

/**
 * Takes the location's lease for `jobId` (or renews it, if the job already holds it), or parks
 * the page in location_waits. One statement: the row lock orders it against a release.
 */
export async function claimPass(
  sql: Sql,
  input: { locationId: string; jobId: string; taskId: string; task: Uint8Array; leaseSeconds: number },
): Promise<PassClaim> {
  const { rows } = await sql.query<{ acquired: boolean; nothing_stored: boolean }>(
    `WITH cur AS (
       SELECT l.id, l.pass_job, l.pass_until, j.status AS holder_status
       FROM locations l LEFT JOIN fetch_jobs j ON j.id = l.pass_job
       WHERE l.id = $1 FOR UPDATE OF l),
     acq AS (
       UPDATE locations l SET pass_job = $2,
         pass_started_at = CASE WHEN cur.pass_job = $2::uuid THEN COALESCE(l.pass_started_at, now()) ELSE now() END,
         pass_until = now() + make_interval(secs => $5)
       FROM cur
       WHERE l.id = cur.id AND (cur.pass_job IS NULL OR cur.pass_job = $2::uuid OR cur.pass_until < now()
         OR cur.holder_status IS NULL OR cur.holder_status NOT IN ('QUEUED','RUNNING'))
       RETURNING 1),
     parked AS (
       INSERT INTO location_waits (location_id, job_id, task_id, task)
       SELECT $1, $2, $3, $4 FROM cur WHERE NOT EXISTS (SELECT 1 FROM acq)
       ON CONFLICT (location_id, job_id) DO NOTHING RETURNING 1),
     unparked AS (
       DELETE FROM location_waits WHERE location_id = $1 AND job_id = $2 AND EXISTS (SELECT 1 FROM acq) RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM acq) AS acquired,
       EXISTS (SELECT 1 FROM acq) AND NOT EXISTS (SELECT 1 FROM reviews WHERE location_id = $1) AS nothing_stored`,
    [input.locationId, input.jobId, input.taskId, Buffer.from(input.task), input.leaseSeconds],
  );
  return { acquired: rows[0]?.acquired ?? false, nothingStored: rows[0]?.nothing_stored ?? false };
}

/** A parked first page handed the location's lease: publish it again under a fresh message id. */
export interface HandedOff {
  locationId: string;
  jobId: string;
  taskId: string;
  task: Buffer;
  resumes: number;
  /** The location's incremental watermark now (the pass that just ended may have moved it). */
  syncedUpdateTime: Date | null;
}

/**
 * Gives a free location (no holder, an ended holder, or an expired lease) to its oldest waiter
 * of a live job, with a short lease that its first page renews when it starts. Waiters of ended
 * jobs are dropped. Returns undefined when the location is busy or nobody waits.
 */
export async function handOffPass(db: Db, locationId: string, handOffSeconds: number): Promise<HandedOff | undefined> {
  return db.tx(async (sql) => {
    const { rows: cur } = await sql.query<{ free: boolean; synced_update_time: Date | null }>(
      `SELECT l.synced_update_time, (l.pass_job IS NULL OR l.pass_until < now() OR j.status IS NULL OR j.status NOT IN ('QUEUED','RUNNING')) AS free
       FROM locations l LEFT JOIN fetch_jobs j ON j.id = l.pass_job WHERE l.id = $1 FOR UPDATE OF l`,
      [locationId],
    );
    if (!cur[0]?.free) return undefined;
    await sql.query(
      `DELETE FROM location_waits w USING fetch_jobs j
       WHERE w.location_id = $1 AND j.id = w.job_id AND j.status NOT IN ('QUEUED','RUNNING')`,
      [locationId],
    );
    const { rows } = await sql.query<{ job_id: string; task_id: string; task: Buffer; resumes: number }>(
      `UPDATE location_waits SET resumes = resumes + 1
       WHERE (location_id, job_id) = (SELECT location_id, job_id FROM location_waits WHERE location_id = $1 ORDER BY created_at, job_id LIMIT 1)
       RETURNING job_id, task_id, task, resumes`,
      [locationId],
    );
    const next = rows[0];
    await sql.query(
      `UPDATE locations SET pass_job = $2, pass_started_at = NULL,
         pass_until = CASE WHEN $2::uuid IS NULL THEN NULL ELSE now() + make_interval(secs => $3) END
       WHERE id = $1`,
      [locationId, next?.job_id ?? null, handOffSeconds],
    );
    return next
      ? {
          locationId,
          jobId: next.job_id,
          taskId: next.task_id,
          task: next.task,
          resumes: next.resumes,
          syncedUpdateTime: cur[0].synced_update_time,
        }
      : undefined;
  });
}

/** Releases the lease `jobId` holds on one location (its pass there ended early: a dead page). */
export async function releasePass(sql: Sql, locationId: string, jobId: string): Promise<void> {
  await sql.query("UPDATE locations SET pass_job = NULL, pass_until = NULL WHERE id = $1 AND pass_job = $2", [locationId, jobId]);
}

/** Takes back a hand-off whose page could not be published (its pass has not started). */
export async function releaseHandOff(sql: Sql, locationId: string, jobId: string): Promise<void> {
  await sql.query("UPDATE locations SET pass_job = NULL, pass_until = NULL WHERE id = $1 AND pass_job = $2 AND pass_started_at IS NULL", [
    locationId,
    jobId,
  ]);
}

/** Locations someone waits for whose lease is free (released, expired, or held by an ended job). */
export async function locationsToHandOff(sql: Sql, limit: number): Promise<string[]> {
  const { rows } = await sql.query<{ location_id: string }>(
    `SELECT DISTINCT w.location_id FROM location_waits w
       JOIN locations l ON l.id = w.location_id LEFT JOIN fetch_jobs j ON j.id = l.pass_job
     WHERE l.pass_job IS NULL OR l.pass_until < now() OR j.status IS NULL OR j.status NOT IN ('QUEUED','RUNNING')
     LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.location_id);
}

/**
 * A job whose page waits for another job's pass is not stalled while that pass goes on (its
 * lease is renewed page by page): its stall clock moves, at most every half stall timeout.
 */
export async function keepWaitingJobsAlive(sql: Sql, stallSeconds: number): Promise<void> {
  await sql.query(
    `UPDATE fetch_jobs j SET progress_at = now()
     WHERE j.status IN ('QUEUED','RUNNING') AND j.progress_at < now() - make_interval(secs => $1 / 2.0)
       AND EXISTS (SELECT 1 FROM location_waits w JOIN locations l ON l.id = w.location_id
                   WHERE w.job_id = j.id AND l.pass_job IS NOT NULL AND l.pass_until > now())`,
    [stallSeconds],
  );
}
