import type { Sql } from "./db.js";
import type { FinishResult, JobRow, JobStatusName, ModeName, TriggerName } from "./job-store.js";

/**
 * Every write of `fetch_jobs.status` lives here, so the job state machine can be read in one place:
 *
 * ```
 *   createQueuedJob   (admission)             → QUEUED
 *   markRunning       QUEUED                  → RUNNING    its first task starts
 *   completeIfDone    QUEUED | RUNNING        → SUCCEEDED  every task finished, none dead-lettered,
 *                                            → PARTIAL    … some dead-lettered;
 *                                                          either only once every review version the
 *                                                          job recorded is published on REVIEWS
 *   failJob           QUEUED | RUNNING        → FAILED     needs re-consent, token refused, …
 *   failStalledJobs   QUEUED | RUNNING        → FAILED     no progress for JOB_STALL_TIMEOUT_SECONDS
 *   cancelJob         QUEUED | RUNNING        → CANCELLED  CancelFetchJob
 *   reopenJob         any but CANCELLED       → RUNNING    a dead letter replayed (ReplayDeadLetter also
 *                                                          refuses an ended raw-token job: its token
 *                                                          is wiped)
 * ```
 *
 * Only QUEUED and RUNNING are active (ACTIVE_STATUSES); every end (SUCCEEDED, PARTIAL, FAILED,
 * CANCELLED) sets `ended_at` and wipes the sealed raw access token, and every transition out of
 * an active status is a conditional UPDATE, so of two racing ends only one applies.
 */

/** What admission records for a new job; it starts QUEUED with its root task counted (tasks_total 1). */
export interface NewJob {
  id: string;
  tenantId: string | null;
  clientId: string | null;
  branchId: string | null;
  targetLocation: string | null;
  /** A notification's one-review pass (with targetLocation): only this review is read. */
  targetReview?: string | null;
  scopeKey: string;
  googleProject: string;
  accessTokenSealed: string | null;
  mode: ModeName;
  /** What started the job (default on_demand: CreateFetchJob). */
  trigger?: TriggerName;
  requestScope: string | null;
  requestId: string | null;
  createdBy: string;
  /** Locations counted at admission: 1 for a branch job (its one location), else 0. */
  locations: number;
}

/** Admission: the job's row, QUEUED, as Postgres returns it. */
export async function createQueuedJob(sql: Sql, job: NewJob): Promise<JobRow> {
  const { rows } = await sql.query<JobRow>(
    `INSERT INTO fetch_jobs (id, tenant_id, client_id, branch_id, target_location, scope_key, google_project, access_token_sealed,
       mode, status, request_scope, request_id, created_by, tasks_total, locations, trigger, target_review)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'QUEUED', $10, $11, $12, 1, $13, $14, $15) RETURNING *`,
    [
      job.id,
      job.tenantId,
      job.clientId,
      job.branchId,
      job.targetLocation,
      job.scopeKey,
      job.googleProject,
      job.accessTokenSealed,
      job.mode,
      job.requestScope,
      job.requestId,
      job.createdBy,
      job.locations,
      job.trigger ?? "on_demand",
      job.targetReview ?? null,
    ],
  );
  return rows[0];
}

/** QUEUED → RUNNING when its first task starts. */
export async function markRunning(sql: Sql, jobId: string): Promise<void> {
  await sql.query(
    "UPDATE fetch_jobs SET status = 'RUNNING', started_at = COALESCE(started_at, now()), updated_at = now() WHERE id = $1 AND status = 'QUEUED'",
    [jobId],
  );
}

/**
 * Ends the job SUCCEEDED (or PARTIAL, with dead letters) when every task it published has
 * finished. Runs after each task's commit: whichever task commits last sees every other commit,
 * so some check always sees the job complete; the conditional UPDATE lets only one end it.
 * The maintenance sweep runs it too, for a process that died between its commit and this check.
 */
export async function completeIfDone(sql: Sql, jobId: string): Promise<FinishResult["ended"]> {
  const { rows } = await sql.query<{ status: JobStatusName; created_at: Date }>(
    `WITH c AS (
       SELECT COALESCE(sum(tasks_total), 0) AS total, COALESCE(sum(tasks_done), 0) AS done, COALESCE(sum(dead_lettered), 0) AS dead
       FROM fetch_job_counters WHERE job_id = $1)
     UPDATE fetch_jobs j SET
       status = CASE WHEN j.dead_lettered + c.dead > 0 THEN 'PARTIAL' ELSE 'SUCCEEDED' END,
       error = CASE WHEN j.dead_lettered + c.dead > 0 THEN (j.dead_lettered + c.dead) || ' task(s) dead-lettered; see ListDeadLetters' ELSE '' END,
       ended_at = now(), updated_at = now(), access_token_sealed = NULL
     FROM c
     WHERE j.id = $1 AND j.status IN ('QUEUED','RUNNING') AND j.tasks_done + c.done >= j.tasks_total + c.total
       -- every change the job recorded is on REVIEWS before anyone is told it is done
       AND NOT EXISTS (SELECT 1 FROM review_publications p WHERE p.job_id = $1 AND p.published_at IS NULL)
     RETURNING j.status, j.created_at`,
    [jobId],
  );
  const row = rows[0];
  return row ? { status: row.status, seconds: (Date.now() - row.created_at.getTime()) / 1000 } : undefined;
}

/** Ends an active job as FAILED (needs re-consent, token refused, stall). Returns false if it had already ended. */
export async function failJob(sql: Sql, jobId: string, error: string): Promise<boolean> {
  const { count } = await sql.query(
    `UPDATE fetch_jobs SET status = 'FAILED', error = $2, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE id = $1 AND status IN ('QUEUED','RUNNING')`,
    [jobId, error.slice(0, 1000)],
  );
  return count > 0;
}

/** Ends an active job as CANCELLED. Returns false if it had already ended. */
export async function cancelJob(sql: Sql, jobId: string, by: string): Promise<boolean> {
  const { count } = await sql.query(
    `UPDATE fetch_jobs SET status = 'CANCELLED', error = $2, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE id = $1 AND status IN ('QUEUED','RUNNING')`,
    [jobId, `cancelled by ${by}`],
  );
  return count > 0;
}

/** Active jobs whose last finished task is older than the stall timeout end FAILED. */
export async function failStalledJobs(sql: Sql, stallSeconds: number): Promise<{ id: string; created_at: Date }[]> {
  const { rows } = await sql.query<{ id: string; created_at: Date }>(
    `UPDATE fetch_jobs SET status = 'FAILED', error = $2, ended_at = now(), updated_at = now(), access_token_sealed = NULL
     WHERE status IN ('QUEUED','RUNNING')
       AND GREATEST(progress_at, (SELECT max(progress_at) FROM fetch_job_counters c WHERE c.job_id = fetch_jobs.id)) < now() - make_interval(secs => $1)
     RETURNING id, created_at`,
    [stallSeconds, `no progress within ${stallSeconds} s (JOB_STALL_TIMEOUT_SECONDS)`],
  );
  return rows;
}

/**
 * A replayed dead letter puts its job back to RUNNING, with no error and no end, and moves its
 * stall clock. A cancelled job stays cancelled (a cancel may land between the caller's check and
 * this statement): false then, and the caller rolls the replay back.
 */
export async function reopenJob(sql: Sql, jobId: string): Promise<boolean> {
  const { count } = await sql.query(
    `UPDATE fetch_jobs SET status = 'RUNNING', started_at = COALESCE(started_at, now()), error = '', ended_at = NULL,
       progress_at = now(), updated_at = now()
     WHERE id = $1 AND status <> 'CANCELLED'`,
    [jobId],
  );
  return count > 0;
}
